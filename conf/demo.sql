-- Demo data for scripts/demo.sh: two soft-delete tables, some rows already soft-deleted.
CREATE TABLE humans (
  id serial PRIMARY KEY,
  name text NOT NULL,
  is_deleted boolean NOT NULL DEFAULT false
);
CREATE TABLE aliens (
  id serial PRIMARY KEY,
  name text NOT NULL,
  human_id int REFERENCES humans(id),
  is_deleted boolean NOT NULL DEFAULT false
);
-- Partial indexes on live rows: the planner uses them for the proxy's filtered queries.
CREATE INDEX humans_live ON humans (id) WHERE NOT is_deleted;
CREATE INDEX aliens_live ON aliens (id) WHERE NOT is_deleted;

INSERT INTO humans (name, is_deleted) VALUES
  ('Ada', false), ('Grace', false), ('Alan', true), ('Edsger', false);
INSERT INTO aliens (name, human_id, is_deleted) VALUES
  ('Zorg', 1, false), ('Xel', 2, true), ('Quux', 3, false), ('Blip', NULL, false);
