'use strict';
// node-postgres (pg) and pg-cursor through the proxy.
const { test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const pg = require('pg');
const Cursor = require('pg-cursor');
const { pgConfig, directRow, direct, removeVictims, LIVE_HUMANS } = require('./common');

let client;
const count = async (text, values) => (await client.query(text, values)).rows[0].n;

before(async () => {
  await removeVictims(100, 199);
  client = new pg.Client(pgConfig());
  await client.connect();
});
after(async () => {
  await client?.end();
});
// Every test starts from the seed: rows a DELETE test inserted are really removed afterwards, and a
// hint a failed test left set is reset.
afterEach(async () => {
  await removeVictims(100, 199);
  await client.query('RESET pgsoftdelete.skip');
});

test('pg: reads are filtered (simple protocol)', async () => {
  assert.equal(await count('SELECT count(*)::int AS n FROM humans'), 3);
  assert.equal(await count('SELECT count(*)::int AS n FROM aliens'), 3);
  const { rows } = await client.query('SELECT name FROM humans ORDER BY id');
  assert.deepEqual(rows.map((r) => r.name), LIVE_HUMANS);
  const [d] = await direct('SELECT count(*)::int AS n FROM humans');
  assert.equal(d.n, 5, 'the server itself still has all 5 humans');
});

test('pg: joins drop deleted rows on both sides (JOIN and LEFT JOIN)', async () => {
  const inner = await client.query(
    'SELECT a.name AS alien, h.name AS human FROM aliens a JOIN humans h ON h.id = a.human_id ORDER BY a.id');
  assert.deepEqual(inner.rows, [{ alien: 'Zorg', human: 'Ada' }]);
  const left = await client.query(
    'SELECT a.name AS alien, h.name AS human FROM aliens a LEFT JOIN humans h ON h.id = a.human_id ORDER BY a.id');
  assert.deepEqual(left.rows, [
    { alien: 'Zorg', human: 'Ada' },
    { alien: 'Quux', human: null }, // Quux's human Alan is deleted
    { alien: 'Blip', human: null },
  ]);
  const left2 = await client.query(
    'SELECT h.name AS human, a.name AS alien FROM humans h LEFT JOIN aliens a ON a.human_id = h.id ORDER BY h.id');
  assert.deepEqual(left2.rows, [
    { human: 'Ada', alien: 'Zorg' },
    { human: 'Grace', alien: null }, // Xel is deleted
    { human: 'Edsger', alien: null }, // Mork is deleted
  ]);
});

test('pg: DELETE soft-deletes and answers DELETE n (simple protocol)', async () => {
  await client.query("INSERT INTO humans VALUES (101, 'v101', false), (102, 'v102', false), (103, 'v103', true)");
  const r = await client.query('DELETE FROM humans WHERE id BETWEEN 101 AND 103');
  assert.equal(r.command, 'DELETE');
  assert.equal(r.rowCount, 2, 'the already-deleted row 103 is not counted');
  assert.deepEqual(await directRow('humans', 101), { id: 101, name: 'v101', is_deleted: true });
  assert.deepEqual(await directRow('humans', 102), { id: 102, name: 'v102', is_deleted: true });
  assert.deepEqual(await directRow('humans', 103), { id: 103, name: 'v103', is_deleted: true });
  const again = await client.query('DELETE FROM humans WHERE id BETWEEN 101 AND 103');
  assert.equal(again.command, 'DELETE');
  assert.equal(again.rowCount, 0);
  assert.equal(await count('SELECT count(*)::int AS n FROM humans'), 3);
  // several statements in one simple query: one result (and count) per statement
  await client.query("INSERT INTO humans VALUES (107, 'v107', false), (108, 'v108', false), (109, 'v109', false)");
  const multi = await client.query('DELETE FROM humans WHERE id = 107; SELECT 1 AS one; DELETE FROM humans WHERE id IN (108, 109, 101)');
  assert.deepEqual(multi.map((m) => [m.command, m.rowCount]), [['DELETE', 1], ['SELECT', 1], ['DELETE', 2]]);
  assert.equal((await directRow('humans', 109)).is_deleted, true);
});

test('pg: DELETE with parameters (extended protocol) and a named prepared DELETE', async () => {
  await client.query("INSERT INTO humans VALUES (104, 'v104', false), (105, 'v105', false)");
  const r = await client.query('DELETE FROM humans WHERE id = $1', [104]);
  assert.equal(r.command, 'DELETE');
  assert.equal(r.rowCount, 1);
  assert.equal((await directRow('humans', 104)).is_deleted, true);
  const named = { name: 'del_human', text: 'DELETE FROM humans WHERE id = $1' };
  const n1 = await client.query({ ...named, values: [105] });
  assert.equal(n1.command, 'DELETE');
  assert.equal(n1.rowCount, 1);
  const n2 = await client.query({ ...named, values: [105] });
  assert.equal(n2.rowCount, 0, 'deleting it again affects no row');
  assert.equal((await directRow('humans', 105)).is_deleted, true);
});

test('pg: hard_delete hint makes DELETE a real DELETE', async () => {
  await client.query("INSERT INTO humans VALUES (106, 'v106', false)");
  const r = await client.query('DELETE FROM humans WHERE id = 106 /* pgsoftdelete: hard_delete=humans */');
  assert.equal(r.rowCount, 1);
  assert.equal(await directRow('humans', 106), null);
});

test('pg: named prepared statement follows SET / RESET pgsoftdelete.skip (3, 5, 3)', async () => {
  const q = { name: 'count_humans', text: 'SELECT count(*)::int AS n FROM humans' };
  assert.equal((await client.query(q)).rows[0].n, 3);
  await client.query("SET pgsoftdelete.skip = 'humans'");
  assert.equal((await client.query(q)).rows[0].n, 5);
  assert.equal((await client.query('SHOW pgsoftdelete.skip')).rows[0]['pgsoftdelete.skip'], 'humans');
  assert.equal(await count('SELECT count(*)::int AS n FROM aliens'), 3, 'skip=humans leaves aliens filtered');
  await client.query('RESET pgsoftdelete.skip');
  assert.equal((await client.query(q)).rows[0].n, 3);
  // the same with parameters
  const p = { name: 'human_by_id', text: 'SELECT name FROM humans WHERE id = $1' };
  assert.equal((await client.query({ ...p, values: [3] })).rowCount, 0);
  await client.query("SET pgsoftdelete.skip = '*'");
  assert.deepEqual((await client.query({ ...p, values: [3] })).rows, [{ name: 'Alan' }]);
  await client.query('RESET pgsoftdelete.skip');
  assert.equal((await client.query({ ...p, values: [3] })).rowCount, 0);
});

test('pg: parameterized queries (extended protocol) are filtered', async () => {
  assert.equal((await client.query('SELECT name FROM humans WHERE id = $1', [3])).rowCount, 0);
  assert.deepEqual((await client.query('SELECT name FROM humans WHERE id = $1', [1])).rows, [{ name: 'Ada' }]);
  const any = await client.query('SELECT name FROM humans WHERE name = ANY($1) ORDER BY id', [['Ada', 'Alan', 'Barbara']]);
  assert.deepEqual(any.rows, [{ name: 'Ada' }]);
  assert.equal(await count('SELECT count(*)::int AS n FROM aliens WHERE id > $1', [0]), 3);
});

test('pg-cursor: reads a filtered result in batches', async () => {
  const cursor = client.query(new Cursor('SELECT id, name FROM humans ORDER BY id'));
  try {
    assert.deepEqual((await cursor.read(2)).map((r) => r.name), ['Ada', 'Grace']);
    assert.deepEqual((await cursor.read(2)).map((r) => r.name), ['Edsger']);
    assert.deepEqual(await cursor.read(2), []);
  } finally {
    await cursor.close();
  }
  const withParam = client.query(new Cursor('SELECT name FROM aliens WHERE id >= $1 ORDER BY id', [1]));
  const got = [];
  for (let batch; (batch = await withParam.read(1)).length;) got.push(...batch.map((r) => r.name));
  await withParam.close();
  assert.deepEqual(got, ['Zorg', 'Quux', 'Blip']);
});

test('pg: hint comments for one statement', async () => {
  assert.equal(await count('/* pgsoftdelete: skip=humans */ SELECT count(*)::int AS n FROM humans'), 5);
  assert.equal(await count('SELECT /* pgsoftdelete: skip=humans */ count(*)::int AS n FROM humans'), 5);
  assert.equal(await count('SELECT count(*)::int AS n FROM aliens -- pgsoftdelete: skip=*'), 5);
  assert.equal(await count("SELECT count(*)::int AS n FROM humans; /*pgsoftdelete.skip='humans%2Caliens'*/"), 5);
  assert.equal(await count('SELECT count(*)::int AS n FROM humans /* pgsoftdelete: only_deleted=humans */'), 2);
  // the same in a parameterized (extended protocol) statement
  assert.equal(await count('/* pgsoftdelete: skip=humans */ SELECT count(*)::int AS n FROM humans WHERE id > $1', [0]), 5);
  // and the next statement is filtered again
  assert.equal(await count('SELECT count(*)::int AS n FROM humans'), 3);
});

test('pg: a block of work with SET LOCAL in a transaction', async () => {
  await client.query('BEGIN');
  try {
    await client.query("SET LOCAL pgsoftdelete.skip = '*'");
    assert.equal(await count('SELECT count(*)::int AS n FROM humans'), 5);
    assert.equal(await count('SELECT count(*)::int AS n FROM aliens'), 5);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  }
  assert.equal(await count('SELECT count(*)::int AS n FROM humans'), 3, 'SET LOCAL ends with the transaction');
});

test('pg: TRUNCATE is refused with 0A000 and the client and pool stay usable', async () => {
  await assert.rejects(client.query('TRUNCATE humans'), (err) => {
    assert.equal(err.code, '0A000');
    return true;
  });
  assert.equal(await count('SELECT count(*)::int AS n FROM humans'), 3);
  const pool = new pg.Pool({ ...pgConfig(), max: 1 });
  try {
    await assert.rejects(pool.query('TRUNCATE aliens'), (err) => err.code === '0A000');
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM aliens')).rows[0].n, 3);
  } finally {
    await pool.end();
  }
  const [d] = await direct(
    'SELECT (SELECT count(*) FROM humans WHERE id <= 5)::int AS h, (SELECT count(*) FROM aliens WHERE id <= 5)::int AS a');
  assert.deepEqual(d, { h: 5, a: 5 }, 'nothing was truncated');
});
