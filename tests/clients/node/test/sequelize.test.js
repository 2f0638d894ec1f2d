'use strict';
// Sequelize 6 (postgres dialect, node-postgres underneath) through the proxy.
const { test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { Sequelize, DataTypes, Op, QueryTypes } = require('sequelize');
const { pgConfig, directRow, direct, removeVictims, LIVE_HUMANS } = require('./common');

const cfg = pgConfig();
const logged = [];
const sequelize = new Sequelize(cfg.database, cfg.user, null, {
  dialect: 'postgres',
  host: cfg.host,
  port: cfg.port,
  logging: (sql) => logged.push(sql),
  // One connection, so that "after the transaction" runs on the very session that had SET LOCAL.
  pool: { min: 0, max: 1, acquire: 10000 },
  dialectOptions: { connectionTimeoutMillis: 5000 },
});

// paranoid: false (the default): the proxy does the soft delete, Sequelize sends a plain DELETE.
const Human = sequelize.define('Human', {
  id: { type: DataTypes.INTEGER, primaryKey: true },
  name: { type: DataTypes.TEXT, allowNull: false },
  is_deleted: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
}, { tableName: 'humans', timestamps: false, paranoid: false });
const Alien = sequelize.define('Alien', {
  id: { type: DataTypes.INTEGER, primaryKey: true },
  name: { type: DataTypes.TEXT, allowNull: false },
  human_id: { type: DataTypes.INTEGER },
  is_deleted: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
}, { tableName: 'aliens', timestamps: false, paranoid: false });
Alien.belongsTo(Human, { foreignKey: 'human_id', as: 'human' });
Human.hasMany(Alien, { foreignKey: 'human_id', as: 'aliens' });

// Recipe 1, a query-level option read by hooks: findAll/findOne/count({ softDeleteHint: 'skip=humans' })
// puts the hint comment into the WHERE clause as a literal (a comment anywhere in the statement counts).
function addSoftDeleteHint(options) {
  if (!options.softDeleteHint) return;
  const hint = sequelize.literal(`/* pgsoftdelete: ${options.softDeleteHint} */ TRUE`);
  options.where = options.where ? { [Op.and]: [options.where, hint] } : hint;
}
sequelize.addHook('beforeFind', addSoftDeleteHint);
sequelize.addHook('beforeCount', addSoftDeleteHint);

// Recipe 2, sqlcommenter style for any statement (also destroy/update): beforeQuery appends
// /*pgsoftdelete.skip='humans'*/ after the generated SQL, which ends with ';'.
sequelize.addHook('beforeQuery', (options, query) => {
  if (!options.sqlcommenter) return;
  const tag = Object.entries(options.sqlcommenter)
    .map(([k, v]) => `${encodeURIComponent(k)}='${encodeURIComponent(v)}'`).join(',');
  const run = query.run;
  query.run = (sql, params) => run.call(query, `${sql} /*${tag}*/`, params);
});

const lastSql = () => logged[logged.length - 1].replace(/^Execut(ing|ed) \([^)]*\): /, '');

before(async () => {
  await removeVictims(300, 399);
  await sequelize.authenticate();
});
after(async () => {
  await sequelize.close();
});
afterEach(async () => {
  await removeVictims(300, 399);
});

test('sequelize: reads are filtered', async () => {
  assert.equal(await Human.count(), 3);
  assert.equal(await Alien.count(), 3);
  assert.deepEqual((await Human.findAll({ order: [['id', 'ASC']] })).map((h) => h.name), LIVE_HUMANS);
  assert.equal(await Human.findByPk(3), null, 'deleted Alan is not found');
});

test('sequelize: includes (INNER and LEFT OUTER JOIN) drop deleted rows on both sides', async () => {
  const inner = await Alien.findAll({ include: [{ model: Human, as: 'human', required: true }], order: [['id', 'ASC']] });
  assert.match(lastSql(), /INNER JOIN "humans"/);
  assert.deepEqual(inner.map((a) => [a.name, a.human.name]), [['Zorg', 'Ada']]);
  const left = await Alien.findAll({ include: [{ model: Human, as: 'human' }], order: [['id', 'ASC']] });
  assert.match(lastSql(), /LEFT OUTER JOIN "humans"/);
  assert.deepEqual(left.map((a) => [a.name, a.human?.name ?? null]), [['Zorg', 'Ada'], ['Quux', null], ['Blip', null]]);
  const left2 = await Human.findAll({ include: [{ model: Alien, as: 'aliens' }], order: [['id', 'ASC']] });
  assert.deepEqual(left2.map((h) => [h.name, h.aliens.map((a) => a.name)]), [['Ada', ['Zorg']], ['Grace', []], ['Edsger', []]]);
});

test('sequelize: Model.destroy() soft-deletes and returns the number of rows', async () => {
  await Human.bulkCreate([
    { id: 301, name: 'v301' }, { id: 302, name: 'v302' }, { id: 303, name: 'v303', is_deleted: true },
  ]);
  const n = await Human.destroy({ where: { id: { [Op.between]: [301, 303] } } });
  assert.match(lastSql(), /^DELETE FROM "humans"/);
  assert.equal(n, 2, 'the already-deleted row 303 is not counted');
  assert.deepEqual(await directRow('humans', 301), { id: 301, name: 'v301', is_deleted: true });
  assert.deepEqual(await directRow('humans', 302), { id: 302, name: 'v302', is_deleted: true });
  assert.equal(await Human.destroy({ where: { id: { [Op.between]: [301, 303] } } }), 0, 'deleting again affects no row');
  // instance.destroy() too
  const h = await Human.create({ id: 304, name: 'v304' });
  await h.destroy();
  assert.equal((await directRow('humans', 304)).is_deleted, true);
  assert.equal(await Human.count(), 3);
});

test('sequelize: raw query with a hint comment (also after the final ;)', async () => {
  const [a] = await sequelize.query('/* pgsoftdelete: skip=humans */ SELECT count(*)::int AS n FROM humans',
    { type: QueryTypes.SELECT });
  assert.equal(a.n, 5);
  const [b] = await sequelize.query("SELECT count(*)::int AS n FROM humans WHERE id > :min; /*pgsoftdelete.skip='humans'*/",
    { type: QueryTypes.SELECT, replacements: { min: 0 } });
  assert.equal(b.n, 5);
  const [c] = await sequelize.query('SELECT count(*)::int AS n FROM aliens WHERE id > $1 -- pgsoftdelete: only_deleted=*',
    { type: QueryTypes.SELECT, bind: [0] });
  assert.equal(c.n, 2);
  assert.equal(await Human.count(), 3, 'the next query is filtered again');
});

test('sequelize: hint via a query-level option and beforeFind/beforeCount hooks', async () => {
  assert.equal(await Human.count({ softDeleteHint: 'skip=humans' }), 5);
  assert.match(lastSql(), /\/\* pgsoftdelete: skip=humans \*\/ TRUE/);
  const all = await Human.findAll({ where: { id: { [Op.lte]: 5 } }, order: [['id', 'ASC']], softDeleteHint: 'skip=humans' });
  assert.deepEqual(all.map((h) => h.id), [1, 2, 3, 4, 5]);
  const alan = await Human.findOne({ where: { id: 3 }, softDeleteHint: 'skip=humans' });
  assert.equal(alan.name, 'Alan');
  const deleted = await Human.findAll({ order: [['id', 'ASC']], softDeleteHint: 'only_deleted=humans' });
  assert.deepEqual(deleted.map((h) => h.name), ['Alan', 'Barbara']);
  assert.equal(await Human.count(), 3, 'without the option the filter is back');
});

test('sequelize: sqlcommenter-style hint after the final ; via a beforeQuery hook', async () => {
  assert.equal(await Human.count({ sqlcommenter: { 'pgsoftdelete.skip': 'humans' } }), 5);
  assert.equal(lastSql(), 'SELECT count(*) AS "count" FROM "humans" AS "Human"; /*pgsoftdelete.skip=\'humans\'*/');
  const both = await Alien.findAll({
    include: [{ model: Human, as: 'human', required: true }],
    order: [['id', 'ASC']],
    sqlcommenter: { 'pgsoftdelete.skip': 'humans,aliens' },
  });
  assert.match(lastSql(), /\/\*pgsoftdelete\.skip='humans%2Caliens'\*\/$/);
  assert.deepEqual(both.map((a) => [a.name, a.human.name]), [['Zorg', 'Ada'], ['Xel', 'Grace'], ['Quux', 'Alan'], ['Mork', 'Edsger']]);
  // also for destroy(): a real DELETE (purge)
  await Human.create({ id: 305, name: 'v305' });
  const purged = await Human.destroy({ where: { id: 305 }, sqlcommenter: { 'pgsoftdelete.hard_delete': 'humans' } });
  assert.equal(purged, 1);
  assert.equal(await directRow('humans', 305), null, 'really deleted');
  assert.equal(await Human.count(), 3);
});

test('sequelize: a block of work in sequelize.transaction with SET LOCAL', async () => {
  const seen = await sequelize.transaction(async (transaction) => {
    await sequelize.query("SET LOCAL pgsoftdelete.skip = '*'", { transaction });
    return {
      humans: await Human.count({ transaction }),
      aliens: await Alien.count({ transaction }),
      alan: (await Human.findByPk(3, { transaction }))?.name,
    };
  });
  assert.deepEqual(seen, { humans: 5, aliens: 5, alan: 'Alan' });
  assert.equal(await Human.count(), 3, 'SET LOCAL ended with the transaction');
});

test('sequelize: truncate() is refused with 0A000 and the pool stays usable', async () => {
  await assert.rejects(Human.truncate(), (err) => {
    assert.equal(err.name, 'SequelizeDatabaseError');
    assert.equal(err.original.code, '0A000'); // the pg error; err.parent is the same object
    return true;
  });
  assert.equal(await Human.count(), 3);
  await assert.rejects(sequelize.query('TRUNCATE aliens'), (err) => err.parent.code === '0A000');
  assert.equal(await Alien.count(), 3);
  const [d] = await direct('SELECT count(*)::int AS n FROM humans WHERE id <= 5');
  assert.equal(d.n, 5, 'nothing was truncated');
});
