-- Write statements for the engine equivalence test, run in order on both copies (rewritten on the copy with
-- soft-deleted rows, as written on the other); after each, affected rows, RETURNING rows and the visible
-- contents of every table must match.
DELETE FROM humans WHERE id = 2
DELETE FROM humans WHERE id = 1
DELETE FROM humans WHERE id = 2
DELETE FROM humans h WHERE h.age > 70 RETURNING h.id, h.name
DELETE FROM aliens WHERE tentacles = 4 RETURNING id
DELETE FROM aliens a USING humans h WHERE h.id = a.human_id AND h.age < 25
DELETE FROM ships s USING aliens a WHERE a.id = s.captain_id AND a.tentacles = 1 RETURNING s.id
DELETE FROM humans WHERE id IN (SELECT owner_id FROM ships WHERE id < 8)
WITH d AS (DELETE FROM ships WHERE owner_id > 60 RETURNING id) SELECT count(*) FROM d
WITH gone AS (DELETE FROM aliens WHERE planet_id = 3 RETURNING human_id) DELETE FROM humans WHERE id IN (SELECT human_id FROM gone)
UPDATE humans SET age = age + 1 WHERE planet_id = 2
UPDATE humans SET name = upper(name) RETURNING id, name
UPDATE aliens a SET tentacles = 0 FROM humans h WHERE h.id = a.human_id AND h.age > 60 RETURNING a.id
UPDATE ships SET name = 'renamed' WHERE id IN (SELECT id FROM ships WHERE captain_id IS NULL)
INSERT INTO humans (id, name, planet_id, age) SELECT id + 1000, name, planet_id, age FROM humans WHERE age > 50
INSERT INTO visits SELECT id, planet_id, 99 FROM humans WHERE planet_id IS NOT NULL
DELETE FROM visits v USING humans h WHERE h.id = v.human_id AND h.age > 40
UPDATE planets p SET name = p.name || '*' FROM aliens a WHERE a.planet_id = p.id AND a.tentacles > 6
DELETE FROM ships
DELETE FROM humans
DELETE FROM fleet_a WHERE size = 1
DELETE FROM fleet_b2 WHERE id > 90
UPDATE fleet_b1 SET name = 'renamed' WHERE size > 3
DELETE FROM crew_officers WHERE stripes = 0
UPDATE crew SET rank = rank + 1
DELETE FROM lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllxyz WHERE id < 5
DELETE FROM other.ships WHERE id < 5
INSERT INTO members (id, email, name) VALUES (101, 'm3@example.org', 'new3') ON CONFLICT (email) DO UPDATE SET logins = members.logins + 1 RETURNING id, name, logins
INSERT INTO members (id, email, name) VALUES (102, 'm1@example.org', 'dup1') ON CONFLICT (email) DO UPDATE SET logins = members.logins + 1, name = excluded.name RETURNING id, name, logins
INSERT INTO members (id, email) VALUES (103, 'm6@example.org') ON CONFLICT (email) DO NOTHING RETURNING id
INSERT INTO members (id, email) VALUES (104, 'm2@example.org') ON CONFLICT (email) DO NOTHING RETURNING id
INSERT INTO members AS m (id, email, name) VALUES (2, 'x2@example.org', 'by id') ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE m.logins >= 0 RETURNING m.id, m.name
INSERT INTO members (id, email, name) VALUES (4, 'm4@example.org', 'on constraint') ON CONFLICT ON CONSTRAINT members_pkey DO UPDATE SET name = excluded.name RETURNING id, name
INSERT INTO members (id, email, name) SELECT 200 + g, 'm' || g || '@example.org', 'bulk' || g FROM generate_series(7, 12) g ON CONFLICT (email) DO UPDATE SET logins = members.logins + 10 RETURNING id, logins
INSERT INTO members (id, email, name) VALUES (105, 'm15@example.org', 'where') ON CONFLICT (email) WHERE logins >= 0 DO UPDATE SET name = 'where' RETURNING id, name
WITH up AS (INSERT INTO members (id, email, name) VALUES (106, 'm19@example.org', 'cte') ON CONFLICT (email) DO UPDATE SET name = 'cte' RETURNING id) SELECT count(*) FROM up
INSERT INTO aliens (id, name, tentacles) VALUES (500, 'alien3', 7) ON CONFLICT (name) DO UPDATE SET tentacles = 99 RETURNING id, tentacles
INSERT INTO aliens (id, name, tentacles) VALUES (501, 'alien1', 7) ON CONFLICT (name) DO UPDATE SET tentacles = 99 RETURNING id, tentacles
DELETE FROM posts WHERE id = 2
DELETE FROM comments WHERE id = 3
DELETE FROM staff WHERE id = 2
DELETE FROM staff WHERE id IN (3, 9) RETURNING id, manager_id
DELETE FROM posts p WHERE p.title LIKE 'b1%' RETURNING p.id, p.title
WITH x AS (SELECT 4 AS id) DELETE FROM posts WHERE id IN (SELECT id FROM x)
DELETE FROM posts USING authors a WHERE posts.author_id = a.id AND a.name = 'author3'
DELETE FROM authors WHERE id = 2
DELETE FROM authors a WHERE a.id IN (6, 7) RETURNING a.name
DELETE FROM comments WHERE body LIKE 'c4%'
DELETE FROM drafts WHERE id < 4
DELETE FROM kin_child WHERE name = 'f'
DELETE FROM kin_parent WHERE name = 'h'
DELETE FROM ONLY kin_parent WHERE id = 2
DELETE FROM zones WHERE region = 'b'
DELETE FROM zones WHERE id = 6
