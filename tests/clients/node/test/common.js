'use strict';
// Shared settings for the tests: where the proxy and the server are (env from the harness), and a
// direct connection to the server that bypasses the proxy, to check what really happened.
const pg = require('pg');

function env(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (fallback === undefined) throw new Error(`${name} is not set (run through run.sh)`);
    return fallback;
  }
  return v;
}

const host = env('PGSD_HOST', '127.0.0.1');
const proxyPort = Number(env('PGSD_PORT'));
const directPort = Number(env('PGSD_DIRECT_PORT'));
const user = env('PGSD_USER', 'postgres');
const database = env('PGSD_DB', 'postgres');

/** node-postgres settings for the proxy (or the server itself with direct = true). */
function pgConfig(direct = false) {
  return {
    host,
    port: direct ? directPort : proxyPort,
    user,
    database,
    connectionTimeoutMillis: 5000,
    // no query_timeout: pg arms it for pg-cursor queries too and never clears it, which keeps the
    // process alive for that long; node --test's per-test timeout bounds a hang instead.
  };
}

/** Runs one statement on the server itself, bypassing the proxy; returns the rows. */
async function direct(text, values) {
  const c = new pg.Client(pgConfig(true));
  await c.connect();
  try {
    return (await c.query(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** The row as the server really has it (null when it is gone). */
async function directRow(table, id) {
  const rows = await direct(`SELECT id, name, is_deleted FROM ${table} WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

/** Victims: rows a test inserts to delete, removed again (really) so the seed stays as it was. */
async function removeVictims(from, to) {
  await direct('DELETE FROM aliens WHERE id BETWEEN $1 AND $2', [from, to]);
  await direct('DELETE FROM humans WHERE id BETWEEN $1 AND $2', [from, to]);
}

const LIVE_HUMANS = ['Ada', 'Grace', 'Edsger'];
const LIVE_ALIENS = ['Zorg', 'Quux', 'Blip'];

module.exports = { pgConfig, direct, directRow, removeVictims, LIVE_HUMANS, LIVE_ALIENS };
