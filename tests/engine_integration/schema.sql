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

-- A rule table that shares only human_id with visits and aliens: for USING and NATURAL joins.
CREATE TABLE badges (human_id int, badge text, is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO badges SELECT 1 + (g * 7) % 90, 'badge' || g, g % 3 = 0 FROM generate_series(1, 90) g;

-- Upserts (INSERT … ON CONFLICT): an e-mail unique among live rows only, the index the README recommends
-- (a deleted row, 31, shares member 1's); the copy without the deleted rows has the plain unique index an
-- application without soft delete would have (run_equivalence.sh). aliens' names likewise, timestamp kind.
CREATE TABLE members (id int PRIMARY KEY, email text NOT NULL, name text, logins int NOT NULL DEFAULT 0,
                      is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO members SELECT g, 'm' || g || '@example.org', 'member' || g, g % 5, g % 3 = 0 FROM generate_series(1, 30) g;
INSERT INTO members VALUES (31, 'm1@example.org', 'old member1', 0, true);
CREATE UNIQUE INDEX members_live_email ON members (email) WHERE NOT is_deleted;
CREATE UNIQUE INDEX aliens_live_name ON aliens (name) WHERE deleted_at IS NULL;

-- The partial index the README recommends: used by the rewritten queries.
CREATE INDEX humans_live_name ON humans (name) WHERE NOT is_deleted;
CREATE INDEX aliens_live_human ON aliens (human_id) WHERE deleted_at IS NULL;
ANALYZE;

-- Tables as PostgreSQL resolves them: a partitioned rule table (two levels), an inheritance parent
-- with a rule and its child, a second schema with a plain table named like a rule table of public
-- (rows marked deleted there are not deleted: no rule), and a rule table with a 63-byte name.
CREATE TABLE fleet (id int, name text, size int, is_deleted boolean NOT NULL DEFAULT false) PARTITION BY RANGE (id);
CREATE TABLE fleet_a PARTITION OF fleet FOR VALUES FROM (0) TO (50);
CREATE TABLE fleet_b PARTITION OF fleet FOR VALUES FROM (50) TO (100) PARTITION BY RANGE (id);
CREATE TABLE fleet_b1 PARTITION OF fleet_b FOR VALUES FROM (50) TO (75);
CREATE TABLE fleet_b2 PARTITION OF fleet_b FOR VALUES FROM (75) TO (100);
INSERT INTO fleet SELECT g, 'fleet' || g, g % 7, g % 3 = 0 FROM generate_series(1, 99) g;
CREATE TABLE crew (id int, name text, rank int, is_deleted boolean NOT NULL DEFAULT false);
CREATE TABLE crew_officers (stripes int) INHERITS (crew);
INSERT INTO crew SELECT g, 'crew' || g, g % 4, g % 4 = 1 FROM generate_series(1, 30) g;
INSERT INTO crew_officers SELECT g, 'officer' || g, g % 3, g % 3 = 2, g % 5 FROM generate_series(31, 60) g;
CREATE SCHEMA other;
CREATE TABLE other.ships (id int PRIMARY KEY, name text, is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO other.ships SELECT g, 'other ship' || g, g % 2 = 0 FROM generate_series(1, 20) g;
CREATE TABLE lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll (id int, note text, is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll SELECT g, 'long' || g, g % 2 = 1 FROM generate_series(1, 10) g;
ANALYZE;

-- Foreign keys a soft delete follows (issue 14): authors <- posts (CASCADE) <- comments (CASCADE); comments
-- also <- authors (CASCADE: a second path) and <- comments (replies, CASCADE, any depth); reactions -> posts
-- SET NULL; pins -> posts SET DEFAULT (post 99, never deleted); staff -> staff SET NULL (managers);
-- drafts (timestamp kind) -> posts CASCADE. The soft-deleted rows are as a cascade leaves them: no live
-- row references a deleted one (the copy without them is then what hard deletes would have left).
CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL, is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO authors SELECT g, 'author' || g, g % 5 = 0 FROM generate_series(1, 10) g;
CREATE TABLE posts (id int PRIMARY KEY, author_id int REFERENCES authors ON DELETE CASCADE, title text,
                    is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO posts SELECT g, 1 + g % 10, CASE WHEN g % 2 = 0 THEN 'b' ELSE 'a' END || g, (1 + g % 10) % 5 = 0 OR g % 7 = 0
  FROM generate_series(1, 30) g;
INSERT INTO posts VALUES (99, NULL, 'pinned', false);
CREATE TABLE comments (id int PRIMARY KEY, post_id int REFERENCES posts ON DELETE CASCADE,
                       author_id int REFERENCES authors ON DELETE CASCADE, reply_to int REFERENCES comments ON DELETE CASCADE,
                       body text, is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO comments SELECT g, 1 + g % 30, 1 + (g * 3) % 10, CASE WHEN g > 20 THEN g - 20 END, 'c' || g, false
  FROM generate_series(1, 60) g;
WITH RECURSIVE gone AS (
  SELECT id FROM comments WHERE post_id IN (SELECT id FROM posts WHERE is_deleted) OR author_id IN (SELECT id FROM authors WHERE is_deleted)
  UNION SELECT c.id FROM comments c JOIN gone ON c.reply_to = gone.id)
UPDATE comments SET is_deleted = true WHERE id IN (SELECT id FROM gone);
CREATE TABLE reactions (id int PRIMARY KEY, post_id int REFERENCES posts ON DELETE SET NULL, kind text,
                        is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO reactions SELECT g, 1 + g % 30, 'r' || g, g % 6 = 0 FROM generate_series(1, 40) g;
UPDATE reactions SET post_id = NULL WHERE NOT is_deleted AND post_id IN (SELECT id FROM posts WHERE is_deleted);
CREATE TABLE pins (id int PRIMARY KEY, post_id int DEFAULT 99 REFERENCES posts ON DELETE SET DEFAULT,
                   is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO pins SELECT g, 1 + (g * 7) % 30, false FROM generate_series(1, 20) g;
UPDATE pins SET post_id = 99 WHERE post_id IN (SELECT id FROM posts WHERE is_deleted);
CREATE TABLE staff (id int PRIMARY KEY, manager_id int REFERENCES staff ON DELETE SET NULL, name text,
                    is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO staff SELECT g, CASE WHEN g > 1 THEN (g + 1) / 3 END, 'staff' || g, g = 12 FROM generate_series(1, 12) g;
CREATE TABLE drafts (id int PRIMARY KEY, post_id int REFERENCES posts ON DELETE CASCADE, body text,
                     deleted_at timestamptz, deleted_by text);
INSERT INTO drafts SELECT g, 1 + (g * 11) % 30, 'd' || g, NULL, NULL FROM generate_series(1, 30) g;
UPDATE drafts SET deleted_at = now() - interval '1 day' WHERE post_id IN (SELECT id FROM posts WHERE is_deleted);
ANALYZE;

-- Keys a soft delete must follow exactly as PostgreSQL does (a review's cases): a self-referencing key to
-- a nullable UNIQUE column (rows found again whatever NULLs their keys hold); a key on an inheritance
-- parent, which sees the parent's own rows only; a key referencing one partition, which sees that
-- partition's rows only.
CREATE TABLE slugs (id int PRIMARY KEY, post_id int REFERENCES posts ON DELETE CASCADE, slug text UNIQUE,
                    parent_slug text REFERENCES slugs (slug) ON DELETE CASCADE, is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO slugs VALUES (1, 2, 'a', NULL), (2, 2, NULL, 'a'), (3, 2, NULL, NULL), (4, 3, 'b', 'a'), (5, 3, NULL, 'b');
-- Two SET NULL keys from one table (one UPDATE sets either column), and a table both cascaded into (its
-- post's rows) and set (its reviewer) by one DELETE of an author.
CREATE TABLE tasks (id int PRIMARY KEY, created_by int REFERENCES authors ON DELETE SET NULL,
                    assigned_to int REFERENCES authors ON DELETE SET NULL, is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO tasks SELECT g, 1 + g % 9, 1 + (g * 7) % 9, false FROM generate_series(1, 30) g;
UPDATE tasks SET created_by = NULL WHERE created_by IN (SELECT id FROM authors WHERE is_deleted);
UPDATE tasks SET assigned_to = NULL WHERE assigned_to IN (SELECT id FROM authors WHERE is_deleted);
CREATE TABLE reviews (id int PRIMARY KEY, post_id int REFERENCES posts ON DELETE CASCADE,
                      reviewer_id int REFERENCES authors ON DELETE SET NULL, is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO reviews SELECT g, 1 + g % 30, 1 + (g * 3) % 10, false FROM generate_series(1, 40) g;
UPDATE reviews SET is_deleted = true WHERE post_id IN (SELECT id FROM posts WHERE is_deleted);
UPDATE reviews SET reviewer_id = NULL WHERE NOT is_deleted AND reviewer_id IN (SELECT id FROM authors WHERE is_deleted);
CREATE TABLE kin_parent (id int PRIMARY KEY, name text, is_deleted boolean NOT NULL DEFAULT false);
CREATE TABLE kin_child () INHERITS (kin_parent);
CREATE TABLE kin_refs (id int PRIMARY KEY, parent_id int REFERENCES kin_parent ON DELETE CASCADE,
                       is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO kin_parent VALUES (1, 'parent', false), (2, 'other', false);
INSERT INTO kin_child VALUES (1, 'f', false), (1, 'g', false), (2, 'h', false);
INSERT INTO kin_refs VALUES (11, 1, false), (12, 2, false);
CREATE TABLE zones (id int, region text, is_deleted boolean NOT NULL DEFAULT false, PRIMARY KEY (id, region))
  PARTITION BY LIST (region);
CREATE TABLE zones_a PARTITION OF zones FOR VALUES IN ('a');
CREATE TABLE zones_b PARTITION OF zones FOR VALUES IN ('b');
ALTER TABLE zones_a ADD UNIQUE (id);
CREATE TABLE zone_refs (id int PRIMARY KEY, zone_id int REFERENCES zones_a (id) ON DELETE CASCADE,
                        is_deleted boolean NOT NULL DEFAULT false);
INSERT INTO zones VALUES (5, 'a', false), (5, 'b', false), (6, 'a', false);
INSERT INTO zone_refs VALUES (1, 5, false), (2, 6, false);
ANALYZE;
