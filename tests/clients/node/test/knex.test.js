'use strict';
// knex (pg driver) through the proxy.
const { test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const Knex = require('knex');
const { pgConfig, directRow, direct, removeVictims, LIVE_HUMANS } = require('./common');

let knex;
// count(*) is a bigint: pg hands it over as a string.
const countOf = async (qb) => Number((await qb.count('* as n'))[0].n);

before(async () => {
  await removeVictims(200, 299);
  // One connection, so that "after the transaction" runs on the very session that had SET LOCAL.
  knex = Knex({ client: 'pg', connection: pgConfig(), pool: { min: 0, max: 1 }, acquireConnectionTimeout: 10000 });
});
after(async () => {
  await knex?.destroy();
});
afterEach(async () => {
  await removeVictims(200, 299);
});

test('knex: reads are filtered', async () => {
  assert.equal(await countOf(knex('humans')), 3);
  assert.equal(await countOf(knex('aliens')), 3);
  assert.deepEqual(await knex('humans').orderBy('id').pluck('name'), LIVE_HUMANS);
  assert.equal(await knex('humans').where({ id: 3 }).first(), undefined, 'deleted Alan is not found');
});

test('knex: joins drop deleted rows on both sides (join and leftJoin)', async () => {
  const inner = await knex('aliens as a').join('humans as h', 'h.id', 'a.human_id')
    .select('a.name as alien', 'h.name as human').orderBy('a.id');
  assert.deepEqual(inner, [{ alien: 'Zorg', human: 'Ada' }]);
  const left = await knex('aliens as a').leftJoin('humans as h', 'h.id', 'a.human_id')
    .select('a.name as alien', 'h.name as human').orderBy('a.id');
  assert.deepEqual(left, [
    { alien: 'Zorg', human: 'Ada' },
    { alien: 'Quux', human: null },
    { alien: 'Blip', human: null },
  ]);
  const left2 = await knex('humans as h').leftJoin('aliens as a', 'a.human_id', 'h.id')
    .select('h.name as human', 'a.name as alien').orderBy('h.id');
  assert.deepEqual(left2, [
    { human: 'Ada', alien: 'Zorg' },
    { human: 'Grace', alien: null },
    { human: 'Edsger', alien: null },
  ]);
});

test('knex: del() soft-deletes and returns the number of rows', async () => {
  await knex('humans').insert([
    { id: 201, name: 'v201' }, { id: 202, name: 'v202' }, { id: 203, name: 'v203', is_deleted: true },
  ]);
  const n = await knex('humans').whereBetween('id', [201, 203]).del();
  assert.equal(n, 2, 'the already-deleted row 203 is not counted');
  assert.deepEqual(await directRow('humans', 201), { id: 201, name: 'v201', is_deleted: true });
  assert.deepEqual(await directRow('humans', 202), { id: 202, name: 'v202', is_deleted: true });
  assert.equal(await knex('humans').whereBetween('id', [201, 203]).del(), 0, 'deleting again affects no row');
  assert.equal(await countOf(knex('humans')), 3);
});

test('knex: .comment() skips the filter for one query', async () => {
  const q = knex('humans').count('* as n').comment('pgsoftdelete: skip=*');
  assert.equal(q.toSQL().sql, '/* pgsoftdelete: skip=* */ select count(*) as "n" from "humans"');
  assert.equal(Number((await q)[0].n), 5);
  const alan = await knex('humans').where({ id: 3 }).first('name').comment('pgsoftdelete: skip=humans');
  assert.deepEqual(alan, { name: 'Alan' });
  assert.equal(await countOf(knex('humans')), 3, 'the next query is filtered again');
  // knex emits .comment() for SELECT only: on del()/update() it is silently dropped.
  assert.equal(knex('humans').where({ id: 1 }).del().comment('pgsoftdelete: hard_delete=humans').toSQL().sql,
    'delete from "humans" where "id" = ?');
  assert.equal(knex('humans').where({ id: 1 }).update({ name: 'x' }).comment('pgsoftdelete: only_deleted=humans').toSQL().sql,
    'update "humans" set "name" = ? where "id" = ?');
});

test('knex: knex.raw with a hint comment (also after the final ;)', async () => {
  const r = await knex.raw("SELECT count(*)::int AS n FROM humans; /*pgsoftdelete.skip='humans'*/");
  assert.equal(r.rows[0].n, 5);
  const d = await knex.raw('SELECT count(*)::int AS n FROM humans WHERE id > ? /* pgsoftdelete: only_deleted=humans */', [0]);
  assert.equal(d.rows[0].n, 2);
});

test('knex: a block of work in knex.transaction with SET LOCAL', async () => {
  await knex('humans').insert({ id: 204, name: 'v204' });
  const seen = await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL pgsoftdelete.skip = '*'");
    return {
      humans: await countOf(trx('humans')),
      aliens: await countOf(trx('aliens')),
      alan: await trx('humans').where({ id: 3 }).first('name'),
    };
  });
  assert.deepEqual(seen, { humans: 6, aliens: 5, alan: { name: 'Alan' } });
  assert.equal(await countOf(knex('humans')), 4, 'SET LOCAL ended with the transaction');
  // the same for a real DELETE (purge): hard_delete in a transaction, since del() drops .comment()
  const purged = await knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL pgsoftdelete.hard_delete = 'humans'");
    return trx('humans').where({ id: 204 }).del();
  });
  assert.equal(purged, 1);
  assert.equal(await directRow('humans', 204), null, 'really deleted');
  await knex('humans').insert({ id: 205, name: 'v205' });
  assert.equal(await knex('humans').where({ id: 205 }).del(), 1);
  assert.equal((await directRow('humans', 205)).is_deleted, true, 'after the transaction DELETE is soft again');
});

test('knex: truncate() is refused with 0A000 and the pool stays usable', async () => {
  await assert.rejects(knex('humans').truncate(), (err) => {
    assert.equal(err.code, '0A000');
    return true;
  });
  assert.equal(await countOf(knex('humans')), 3);
  await assert.rejects(knex.raw('TRUNCATE aliens'), (err) => err.code === '0A000');
  assert.equal(await countOf(knex('aliens')), 3);
  const [d] = await direct('SELECT count(*)::int AS n FROM humans WHERE id <= 5');
  assert.equal(d.n, 5, 'nothing was truncated');
});
