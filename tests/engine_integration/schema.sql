-- Test data for the engine equivalence test: three soft-delete tables (humans: flag, aliens: timestamp,
-- ships: flag) and two plain ones (planets, visits). Deterministic, with NULLs and soft-deleted rows.
CREATE TABLE planets (id int PRIMARY KEY, name text NOT NULL, galaxy text);
INSERT INTO planets SELECT g, 'planet' || g, CASE WHEN g % 3 = 0 THEN 'andromeda' ELSE 'milky way' END
  FROM generate_series(1, 12) g;

CREATE TABLE humans (id int PRIMARY KEY, name text NOT NULL, planet_id int, age int,
                     is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO humans SELECT g, 'human' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE 1 + g % 10 END,
                          18 + (g * 37) % 60, g % 4 = 1
  FROM generate_series(1, 80) g;

CREATE TABLE aliens (id int PRIMARY KEY, name text NOT NULL, human_id int, planet_id int, tentacles int,
                     deleted_at timestamptz, deleted_by text);
INSERT INTO aliens SELECT g, 'alien' || g, CASE WHEN g % 5 = 0 THEN NULL ELSE 1 + (g * 13) % 80 END,
                          1 + g % 12, g % 9, CASE WHEN g % 3 = 0 THEN now() - interval '1 day' END, NULL
  FROM generate_series(1, 60) g;

CREATE TABLE ships (id int PRIMARY KEY, name text, owner_id int, captain_id int,
                    is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO ships SELECT g, 'ship' || g, 1 + (g * 7) % 80, CASE WHEN g % 4 = 0 THEN NULL ELSE 1 + (g * 11) % 60 END,
                         g % 5 = 2
  FROM generate_series(1, 40) g;

CREATE TABLE visits (human_id int, planet_id int, day int);
INSERT INTO visits SELECT 1 + (g * 17) % 80, 1 + (g * 5) % 12, g % 30 FROM generate_series(1, 200) g;

-- The partial index the README recommends: used by the rewritten queries.
CREATE INDEX humans_live_name ON humans (name) WHERE NOT is_deleted;
CREATE INDEX aliens_live_human ON aliens (human_id) WHERE deleted_at IS NULL;
ANALYZE;
