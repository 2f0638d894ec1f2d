-- Read queries for the engine equivalence test: one per line. Each runs rewritten against the copy
-- holding soft-deleted rows, and as written against the copy without them; results must match.
SELECT * FROM humans
SELECT * FROM aliens
SELECT * FROM ships
SELECT id, name FROM humans WHERE age > 40
SELECT * FROM public.humans WHERE planet_id IS NULL
SELECT * FROM "humans" h WHERE h.id < 20
SELECT * FROM HUMANS WHERE ID BETWEEN 5 AND 25
SELECT * FROM ONLY humans
SELECT * FROM ONLY (aliens) x WHERE x.tentacles > 3
SELECT * FROM humans * WHERE age < 30
TABLE ships
SELECT a.id AS k, a.name AS v FROM aliens AS a(id, name) WHERE a.id > 10
SELECT DISTINCT planet_id FROM humans
SELECT DISTINCT ON (planet_id) planet_id, id FROM humans ORDER BY planet_id, id
SELECT id FROM humans ORDER BY id LIMIT 10
SELECT id FROM humans ORDER BY id LIMIT 10 OFFSET 5
SELECT id FROM aliens ORDER BY id DESC FETCH FIRST 7 ROWS ONLY
SELECT h.* FROM humans h WHERE h.name LIKE 'human1%'
SELECT humans.name FROM humans WHERE humans.age % 2 = 0
SELECT s.id, s.name FROM public.ships s WHERE s.captain_id IS NOT NULL
SELECT count(*) FROM humans
SELECT count(*) FROM aliens
SELECT count(*) FROM ships
SELECT count(*), sum(age), min(age), max(age), avg(age)::numeric(10,4) FROM humans
SELECT planet_id, count(*) FROM humans GROUP BY planet_id
SELECT planet_id, count(*) FROM humans GROUP BY planet_id HAVING count(*) > 3
SELECT tentacles, count(*), string_agg(name, ',' ORDER BY name) FROM aliens GROUP BY tentacles
SELECT planet_id, array_agg(id ORDER BY id) FROM aliens GROUP BY planet_id
SELECT count(DISTINCT planet_id) FROM humans
SELECT bool_and(age > 18), bool_or(age > 70) FROM humans
SELECT planet_id, count(*) FILTER (WHERE age > 50) FROM humans GROUP BY planet_id
SELECT planet_id, tentacles, count(*) FROM aliens GROUP BY ROLLUP (planet_id, tentacles)
SELECT planet_id, count(*) FROM humans GROUP BY CUBE (planet_id)
SELECT (SELECT count(*) FROM humans) + (SELECT count(*) FROM aliens) + (SELECT count(*) FROM ships)
SELECT count(*) FROM humans, aliens
SELECT id, row_number() OVER (ORDER BY id) FROM humans
SELECT id, planet_id, rank() OVER (PARTITION BY planet_id ORDER BY age) FROM humans
SELECT id, sum(tentacles) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM aliens
SELECT id, lag(id) OVER w, lead(id) OVER w FROM ships WINDOW w AS (ORDER BY id)
SELECT id, count(*) OVER () FROM humans
SELECT h.id, a.id FROM humans h, aliens a WHERE a.human_id = h.id
SELECT h.id, p.name FROM humans h, planets p WHERE p.id = h.planet_id
SELECT h.id, a.id FROM humans h CROSS JOIN aliens a WHERE h.id < 5 AND a.id < 5
SELECT * FROM humans NATURAL JOIN planets
SELECT * FROM humans h1 NATURAL JOIN (SELECT id, name FROM humans) h2
SELECT * FROM humans JOIN ships USING (id)
SELECT * FROM humans LEFT JOIN ships USING (id)
SELECT * FROM humans FULL JOIN ships USING (id)
SELECT * FROM humans RIGHT JOIN aliens USING (id)
SELECT * FROM humans h JOIN aliens a USING (id) JOIN ships s USING (id)
SELECT j.id FROM humans JOIN aliens USING (id) AS j
SELECT h1.id, h2.id FROM humans h1 JOIN humans h2 ON h2.age = h1.age AND h2.id > h1.id
SELECT h1.id, h2.id FROM humans h1 LEFT JOIN humans h2 ON h2.id = h1.id + 1
SELECT h.id, a.id, s.id FROM humans h LEFT JOIN aliens a ON a.human_id = h.id LEFT JOIN ships s ON s.owner_id = h.id
SELECT h.id, a.id, s.id FROM humans h FULL JOIN aliens a ON a.human_id = h.id FULL JOIN ships s ON s.captain_id = a.id
SELECT p.id, h.id, a.id FROM planets p LEFT JOIN (humans h JOIN aliens a ON a.human_id = h.id) ON h.planet_id = p.id
SELECT p.id, h.id FROM planets p LEFT JOIN humans h ON h.planet_id = p.id AND h.age > 30
SELECT p.id, count(h.id) FROM planets p LEFT JOIN humans h ON h.planet_id = p.id GROUP BY p.id
SELECT p.id, count(a.id) FROM aliens a RIGHT JOIN planets p ON p.id = a.planet_id GROUP BY p.id
SELECT p.id FROM planets p LEFT JOIN humans h ON h.planet_id = p.id WHERE h.id IS NULL
SELECT a.id FROM aliens a LEFT JOIN humans h ON h.id = a.human_id WHERE h.id IS NULL
SELECT s.id FROM ships s LEFT JOIN aliens a ON a.id = s.captain_id WHERE a.id IS NULL
SELECT h.id, v.day FROM humans h JOIN visits v ON v.human_id = h.id WHERE v.day < 5
SELECT h.id, v.planet_id FROM visits v LEFT JOIN humans h ON h.id = v.human_id
SELECT * FROM (SELECT id, age FROM humans WHERE age > 30) x WHERE x.id < 50
SELECT x.planet_id, x.c FROM (SELECT planet_id, count(*) c FROM humans GROUP BY planet_id) x WHERE x.c > 2
SELECT * FROM (SELECT * FROM aliens) a JOIN (SELECT * FROM humans) h ON h.id = a.human_id
SELECT * FROM (SELECT * FROM (SELECT * FROM ships) s1) s2
SELECT id FROM planets WHERE id IN (SELECT planet_id FROM humans)
SELECT id FROM planets WHERE id NOT IN (SELECT planet_id FROM humans WHERE planet_id IS NOT NULL)
SELECT id FROM humans WHERE id IN (SELECT human_id FROM aliens)
SELECT id FROM humans WHERE id NOT IN (SELECT human_id FROM aliens WHERE human_id IS NOT NULL)
SELECT id FROM humans h WHERE EXISTS (SELECT 1 FROM aliens a WHERE a.human_id = h.id)
SELECT id FROM humans h WHERE NOT EXISTS (SELECT 1 FROM aliens a WHERE a.human_id = h.id)
SELECT id FROM planets p WHERE EXISTS (SELECT 1 FROM humans h WHERE h.planet_id = p.id AND h.age > 60)
SELECT id FROM humans WHERE age > ALL (SELECT tentacles * 8 FROM aliens)
SELECT id FROM humans WHERE age = ANY (SELECT tentacles + 20 FROM aliens)
SELECT id FROM humans WHERE age > (SELECT avg(age) FROM humans)
SELECT id FROM aliens a WHERE tentacles > (SELECT count(*) FROM ships s WHERE s.captain_id = a.id)
SELECT id FROM humans h WHERE (SELECT count(*) FROM ships s WHERE s.owner_id = h.id) >= 1
SELECT id FROM humans WHERE planet_id IN (SELECT id FROM planets WHERE id IN (SELECT planet_id FROM aliens))
SELECT h.id, (SELECT count(*) FROM aliens a WHERE a.human_id = h.id) FROM humans h
SELECT p.id, (SELECT max(age) FROM humans h WHERE h.planet_id = p.id) FROM planets p
SELECT p.id, (SELECT string_agg(name, ',' ORDER BY name) FROM aliens a WHERE a.planet_id = p.id) FROM planets p
SELECT h.id, EXISTS (SELECT 1 FROM ships s WHERE s.owner_id = h.id) FROM humans h
SELECT planet_id FROM humans GROUP BY planet_id HAVING count(*) > (SELECT count(*) / 12 FROM aliens)
SELECT tentacles FROM aliens GROUP BY tentacles HAVING max(id) IN (SELECT id FROM humans)
SELECT p.id, x.id FROM planets p, LATERAL (SELECT id FROM humans h WHERE h.planet_id = p.id ORDER BY id LIMIT 2) x
SELECT p.id, x.c FROM planets p CROSS JOIN LATERAL (SELECT count(*) c FROM aliens a WHERE a.planet_id = p.id) x
SELECT h.id, x.id FROM humans h LEFT JOIN LATERAL (SELECT id FROM ships s WHERE s.owner_id = h.id ORDER BY id LIMIT 1) x ON true
SELECT h.id, x.n FROM humans h, LATERAL (SELECT count(*) n FROM aliens a WHERE a.human_id = h.id AND a.tentacles > 2) x
WITH x AS (SELECT * FROM humans) SELECT count(*) FROM x
WITH x AS (SELECT * FROM humans WHERE age > 40), y AS (SELECT * FROM x WHERE id < 60) SELECT id FROM y
WITH x AS MATERIALIZED (SELECT * FROM aliens) SELECT x.id FROM x JOIN humans h ON h.id = x.human_id
WITH x AS NOT MATERIALIZED (SELECT * FROM ships) SELECT id FROM x WHERE owner_id > 10
WITH humans AS (SELECT * FROM humans WHERE age > 30) SELECT id FROM humans
WITH a AS (SELECT human_id FROM aliens), h AS (SELECT id FROM humans WHERE id IN (SELECT human_id FROM a)) SELECT * FROM h
WITH RECURSIVE r(id) AS (SELECT min(id) FROM humans UNION ALL SELECT (SELECT min(h.id) FROM humans h WHERE h.id > r.id) FROM r WHERE r.id IS NOT NULL) SELECT id FROM r WHERE id IS NOT NULL
WITH RECURSIVE chain(id, depth) AS (SELECT id, 0 FROM humans WHERE id = 2 UNION ALL SELECT h.id, c.depth + 1 FROM humans h JOIN chain c ON h.id = c.id + 2 WHERE c.depth < 20) SELECT * FROM chain
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 10) SELECT t.n, h.id FROM t LEFT JOIN humans h ON h.id = t.n
WITH RECURSIVE ships(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM ships WHERE n < 5) SELECT n FROM ships
SELECT id FROM humans UNION SELECT id FROM aliens
SELECT id FROM humans UNION ALL SELECT id FROM aliens
SELECT id FROM humans INTERSECT SELECT id FROM aliens
SELECT id FROM humans EXCEPT SELECT id FROM aliens
SELECT id FROM aliens EXCEPT ALL SELECT human_id FROM aliens
SELECT planet_id FROM humans UNION SELECT planet_id FROM aliens UNION SELECT id FROM planets
(SELECT id FROM humans ORDER BY id LIMIT 5) UNION ALL (SELECT id FROM ships ORDER BY id DESC LIMIT 5)
SELECT id FROM humans WHERE id IN (SELECT id FROM aliens UNION SELECT id FROM ships)
SELECT id, CASE WHEN age > 50 THEN 'old' ELSE 'young' END FROM humans
SELECT id, coalesce(planet_id, -1), nullif(age, 30) FROM humans
SELECT row_to_json(h) FROM humans h WHERE id < 10
SELECT h.id, v.x FROM humans h JOIN (VALUES (1, 'a'), (2, 'b'), (3, 'c')) v(x, y) ON v.x = h.id
SELECT * FROM generate_series(1, 10) g LEFT JOIN humans h ON h.id = g
SELECT g, (SELECT count(*) FROM aliens WHERE tentacles = g) FROM generate_series(0, 8) g
SELECT id FROM humans WHERE id = ANY (ARRAY[1, 2, 3, 4, 5, 6])
SELECT array(SELECT id FROM ships ORDER BY id)
SELECT id FROM humans WHERE name ~ '^human[0-9]$'
SELECT length(string_agg(name, '')) FROM aliens
SELECT h.id, a.id FROM humans h JOIN aliens a ON a.human_id = h.id
SELECT h.id, a.id FROM humans h LEFT JOIN aliens a ON a.human_id = h.id
SELECT h.id, a.id FROM humans h RIGHT JOIN aliens a ON a.human_id = h.id
SELECT h.id, a.id FROM humans h FULL JOIN aliens a ON a.human_id = h.id
SELECT h.id, s.id FROM humans h JOIN ships s ON s.owner_id = h.id
SELECT h.id, s.id FROM humans h LEFT JOIN ships s ON s.owner_id = h.id
SELECT h.id, s.id FROM humans h RIGHT JOIN ships s ON s.owner_id = h.id
SELECT h.id, s.id FROM humans h FULL JOIN ships s ON s.owner_id = h.id
SELECT a.id, s.id FROM aliens a JOIN ships s ON s.captain_id = a.id
SELECT a.id, s.id FROM aliens a LEFT JOIN ships s ON s.captain_id = a.id
SELECT a.id, s.id FROM aliens a RIGHT JOIN ships s ON s.captain_id = a.id
SELECT a.id, s.id FROM aliens a FULL JOIN ships s ON s.captain_id = a.id
SELECT p.id, h.id FROM planets p JOIN humans h ON h.planet_id = p.id
SELECT p.id, h.id FROM planets p LEFT JOIN humans h ON h.planet_id = p.id
SELECT p.id, h.id FROM planets p RIGHT JOIN humans h ON h.planet_id = p.id
SELECT p.id, h.id FROM planets p FULL JOIN humans h ON h.planet_id = p.id
SELECT p.id, a.id FROM planets p JOIN aliens a ON a.planet_id = p.id
SELECT p.id, a.id FROM planets p LEFT JOIN aliens a ON a.planet_id = p.id
SELECT p.id, a.id FROM planets p RIGHT JOIN aliens a ON a.planet_id = p.id
SELECT p.id, a.id FROM planets p FULL JOIN aliens a ON a.planet_id = p.id
SELECT h.id, v.day FROM humans h JOIN visits v ON v.human_id = h.id
SELECT h.id, v.day FROM humans h LEFT JOIN visits v ON v.human_id = h.id
SELECT h.id, v.day FROM humans h RIGHT JOIN visits v ON v.human_id = h.id
SELECT h.id, v.day FROM humans h FULL JOIN visits v ON v.human_id = h.id
SELECT a.id, h.id FROM aliens a JOIN humans h ON h.id = a.human_id AND h.age > 35
SELECT a.id, h.id FROM aliens a LEFT JOIN humans h ON h.id = a.human_id AND h.age > 35
SELECT a.id, h.id FROM aliens a RIGHT JOIN humans h ON h.id = a.human_id AND h.age > 35
SELECT a.id, h.id FROM aliens a FULL JOIN humans h ON h.id = a.human_id AND h.age > 35
SELECT count(*) FROM humans WHERE id % 3 <> 0
SELECT sum(age) FROM humans WHERE id % 3 <> 0
SELECT max(age) - min(age) FROM humans WHERE id % 3 <> 0
SELECT count(*) FROM aliens WHERE id % 3 <> 0
SELECT sum(tentacles) FROM aliens WHERE id % 3 <> 0
SELECT max(tentacles) - min(tentacles) FROM aliens WHERE id % 3 <> 0
SELECT count(*) FROM ships WHERE id % 3 <> 0
SELECT sum(owner_id) FROM ships WHERE id % 3 <> 0
SELECT max(owner_id) - min(owner_id) FROM ships WHERE id % 3 <> 0
SELECT x.id FROM humans x WHERE x.id IN (SELECT id FROM humans WHERE id % 2 = 0)
SELECT count(*) FROM humans x JOIN humans y ON y.id = x.id
SELECT x.id FROM aliens x WHERE x.id IN (SELECT id FROM aliens WHERE id % 2 = 0)
SELECT count(*) FROM aliens x JOIN aliens y ON y.id = x.id
SELECT x.id FROM ships x WHERE x.id IN (SELECT id FROM ships WHERE id % 2 = 0)
SELECT count(*) FROM ships x JOIN ships y ON y.id = x.id
SELECT * FROM fleet
SELECT * FROM fleet_a WHERE size > 2
SELECT * FROM fleet_b
SELECT f.id, g.name FROM fleet_b1 f JOIN fleet_b2 g USING (size) WHERE f.id < g.id
SELECT count(*) FROM public.fleet_b2
SELECT * FROM crew
SELECT * FROM ONLY crew
SELECT * FROM crew_officers WHERE stripes > 1
SELECT c.name, o.stripes FROM crew c JOIN crew_officers o ON o.rank = c.rank
SELECT * FROM other.ships
SELECT s.id, o.name FROM ships s JOIN other.ships o USING (id)
SELECT * FROM public.ships WHERE id IN (SELECT id FROM other.ships)
SELECT * FROM lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll
SELECT count(*) FROM lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllxyz
SELECT count(*) FROM "lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll" x WHERE x.id > 3
-- Set operations whose first branch is parenthesised, inside a FROM list, IN, EXISTS and a join (found in review:
-- the predicate must go into the branch, not the query around it).
SELECT count(*) FROM ((SELECT 0 AS id) UNION ALL SELECT id FROM humans WHERE id > 0) x, humans WHERE humans.id = 2
SELECT x.id FROM ((SELECT 0 AS id) UNION ALL SELECT h.id FROM humans h WHERE h.id > 0) x, humans h WHERE h.id = 2
SELECT count(*) FROM ((SELECT 0 AS id) UNION ALL SELECT h.id FROM humans h) x, (SELECT false AS is_deleted) h
SELECT count(*) FROM ((SELECT 0 AS id) UNION ALL SELECT id FROM humans) x
SELECT count(*) FROM visits v WHERE v.human_id IN ((SELECT 0) UNION ALL SELECT h.id FROM humans h)
((SELECT 0 AS id) UNION ALL SELECT id FROM humans) ORDER BY 1
SELECT * FROM ((SELECT 0 AS id) UNION ALL SELECT id FROM humans) x LEFT JOIN aliens a ON a.id = x.id
SELECT count(*) FROM visits v LEFT JOIN humans h ON v.human_id = h.id AND h.id IN ((SELECT 1) UNION SELECT human_id FROM aliens)
SELECT EXISTS ((SELECT WHERE false) UNION ALL SELECT FROM humans h WHERE h.id = 1), EXISTS ((SELECT WHERE false) UNION ALL SELECT FROM humans h WHERE h.id = 2)
SELECT count(*) FROM humans h WHERE collation for (h.name) = '"default"'
SELECT count(*) FROM visits v LEFT JOIN humans h ON collation for (h.name) = '"default"' AND h.id = v.human_id
SELECT count(*) FROM planets p JOIN visits v ON extract(year from now()) > 2000 JOIN (humans h JOIN aliens a ON a.human_id = h.id) ON h.id = v.human_id
SELECT count(*) FROM planets p JOIN visits v ON p.id IS DISTINCT FROM v.planet_id JOIN humans h ON h.id = v.human_id
SELECT count(*) FROM (ROWS FROM (generate_series(1, 50)) r(n) JOIN humans h ON h.id = r.n)
