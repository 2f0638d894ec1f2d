// The engine equivalence test: every read query, rewritten by the engine and run against the copy holding
// soft-deleted rows, must return what the original query returns against the copy without them; every write
// statement must leave both copies in the same visible state. Also checks the partial index is used.
// With the only_deleted hint, the same queries against the copy holding soft-deleted rows must return what they
// return against a copy holding only the soft-deleted rows.
// Usage: pgsd_engine_equivalence rules.toml read_queries.sql write_statements.sql live clean deleted (conninfos)
#include <libpq-fe.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "rules/engine.hpp"
#include "rules/load_rules.hpp"
#include "rules/resolved_rules.hpp"

namespace {

using namespace pgsoftdelete;

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, PgResultDeleter>;
struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Connection = std::unique_ptr<PGconn, PgConnDeleter>;

/// What a statement produced, in a comparable form.
struct Outcome {
  std::string status;  ///< "ok" or the SQLSTATE
  std::vector<std::string> columns;
  std::vector<std::string> rows;  ///< sorted: row order is not part of the comparison
  std::string affected;           ///< PQcmdTuples
  std::string error;

  bool operator==(const Outcome& o) const {
    return status == o.status && columns == o.columns && rows == o.rows && affected == o.affected;
  }
};

Outcome run(PGconn* conn, const std::string& sql) {
  Result r(PQexec(conn, sql.c_str()));
  Outcome out;
  auto st = PQresultStatus(r.get());
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    const char* code = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
    out.status = code ? code : "?";
    out.error = PQresultErrorMessage(r.get());
    return out;
  }
  out.status = "ok";
  out.affected = PQcmdTuples(r.get());
  for (int c = 0; c < PQnfields(r.get()); ++c) out.columns.emplace_back(PQfname(r.get(), c));
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    std::string row;
    for (int c = 0; c < PQnfields(r.get()); ++c) {
      row += PQgetisnull(r.get(), i, c) ? "<null>" : PQgetvalue(r.get(), i, c);
      row += '|';
    }
    out.rows.push_back(std::move(row));
  }
  std::sort(out.rows.begin(), out.rows.end());
  return out;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && !line.starts_with("--")) out.push_back(line);
  return out;
}

void describe(const char* what, const Outcome& o) {
  std::cerr << "  " << what << ": status " << o.status << " affected " << o.affected << " rows " << o.rows.size()
            << (o.error.empty() ? "" : " error " + o.error) << "\n";
  for (std::size_t i = 0; i < o.rows.size() && i < 5; ++i) std::cerr << "    " << o.rows[i] << "\n";
}

/// The live database's catalog and search_path, read as the proxy reads them (its own queries, here
/// through libpq): the engine resolves partitions, children and schemas with them.
rules::Catalog read_catalog(PGconn* conn, rules::SearchPath& path) {
  rules::Catalog catalog;
  auto rels = run(conn, "SELECT c.oid, n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n "
                        "ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','v','m','f') AND n.nspname !~ '^pg_' "
                        "AND n.nspname <> 'information_schema'");
  for (const auto& row : rels.rows) {
    // Rows are "oid|schema|name|kind|" (names here hold no '|').
    std::vector<std::string> f;
    std::size_t start = 0;
    for (std::size_t bar; (bar = row.find('|', start)) != std::string::npos; start = bar + 1) f.push_back(row.substr(start, bar - start));
    catalog.relations.push_back({static_cast<std::uint32_t>(std::stoul(f[0])), f[1], f[2], f[3][0], {}});
  }
  // Primary keys: "oid|column|", one row per column, put back in order below.
  auto primary = run(conn, "SELECT p.conrelid, a.attname, k.i FROM pg_constraint p CROSS JOIN LATERAL "
                           "unnest(p.conkey) WITH ORDINALITY AS k(n, i) JOIN pg_attribute a ON a.attrelid = p.conrelid "
                           "AND a.attnum = k.n WHERE p.contype = 'p'");
  std::vector<std::tuple<std::uint32_t, std::size_t, std::string>> key_columns;
  for (const auto& row : primary.rows) {
    const auto bar1 = row.find('|'), bar2 = row.find('|', bar1 + 1);
    key_columns.emplace_back(static_cast<std::uint32_t>(std::stoul(row.substr(0, bar1))),
                             std::stoul(row.substr(bar2 + 1)), row.substr(bar1 + 1, bar2 - bar1 - 1));
  }
  std::sort(key_columns.begin(), key_columns.end());
  for (const auto& [oid, position, column] : key_columns)
    for (auto& r : catalog.relations)
      if (r.oid == oid) r.unique_key.push_back(column);
  auto inherits = run(conn, "SELECT inhrelid, inhparent FROM pg_inherits");
  for (const auto& row : inherits.rows) {
    const auto bar = row.find('|');
    const auto child = static_cast<std::uint32_t>(std::stoul(row.substr(0, bar)));
    const auto parent = static_cast<std::uint32_t>(std::stoul(row.substr(bar + 1)));
    for (auto& r : catalog.relations)
      if (r.oid == child) r.parents.push_back(parent);
  }
  // Foreign keys: one row per column pair, "oid|name|conrelid|confrelid|deltype|referenced|referencing|set|derived|".
  auto keys = run(conn, "SELECT c.oid, c.conname, c.conrelid, c.confrelid, c.confdeltype, fa.attname, ra.attname, "
                        "k.ref = ANY (coalesce(c.confdelsetcols, '{}')), c.conparentid <> 0, k.i FROM pg_constraint c "
                        "CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(ref, fref, i) "
                        "JOIN pg_attribute ra ON ra.attrelid = c.conrelid AND ra.attnum = k.ref "
                        "JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fref WHERE c.contype = 'f'");
  // run() sorts rows as text: put each key's columns back in order.
  std::vector<std::vector<std::string>> key_rows;
  for (const auto& row : keys.rows) {
    std::vector<std::string> f;
    std::size_t start = 0;
    for (std::size_t bar; (bar = row.find('|', start)) != std::string::npos; start = bar + 1) f.push_back(row.substr(start, bar - start));
    key_rows.push_back(std::move(f));
  }
  std::sort(key_rows.begin(), key_rows.end(), [](const auto& a, const auto& b) {
    return std::stoul(a[0]) != std::stoul(b[0]) ? std::stoul(a[0]) < std::stoul(b[0]) : std::stoul(a[9]) < std::stoul(b[9]);
  });
  for (std::size_t i = 0; i < key_rows.size(); ++i) {
    const auto& f = key_rows[i];
    if (i == 0 || f[0] != key_rows[i - 1][0]) {
      rules::CatalogForeignKey k{f[1], static_cast<std::uint32_t>(std::stoul(f[2])), static_cast<std::uint32_t>(std::stoul(f[3])),
                                 f[4][0], 'a', {}};
      k.derived = f[8] == "t";
      catalog.foreign_keys.push_back(std::move(k));
    }
    auto& k = catalog.foreign_keys.back();
    k.referenced_columns.push_back(f[5]);
    k.referencing_columns.push_back(f[6]);
    if (f[7] == "t") k.set_columns.push_back(f[6]);
  }
  auto schemas = run(conn, "SELECT unnest(current_schemas(true))");
  path.known = true;
  for (const auto& row : schemas.rows) path.schemas.push_back(row.substr(0, row.size() - 1));
  return catalog;
}

struct Checker {
  const rules::Engine& engine;
  PGconn* live;
  PGconn* clean;
  const rules::ResolvedRules* resolved = nullptr;
  const rules::SearchPath* path = nullptr;
  int failures = 0;
  int rewritten = 0;

  /// The statement as the proxy would send it to the server holding soft-deleted rows.
  std::string through_engine(const std::string& sql, rules::RewriteResult* info = nullptr, const rules::Hints& hints = {}) {
    auto r = engine.rewrite(sql, hints, "postgres", rules::Scope{.resolved = resolved, .search_path = path});
    if (!r) {
      std::cerr << "FAIL engine refused: " << sql << "\n  " << r.error().sqlstate << " " << r.error().message << "\n";
      ++failures;
      return {};
    }
    if (!r->unchanged) ++rewritten;
    if (info) *info = *r;
    return r->unchanged ? sql : r->sql;
  }

  bool same(const std::string& label, const std::string& sql, const std::string& sent, const Outcome& a, const Outcome& b) {
    if (a == b) return true;
    ++failures;
    std::cerr << "FAIL " << label << ": " << sql << "\n  sent: " << sent << "\n";
    describe("with soft-deleted rows, rewritten", a);
    describe("without them, original", b);
    return false;
  }

  void read(const std::string& sql) {
    auto sent = through_engine(sql);
    if (sent.empty()) return;
    auto a = run(live, sent);
    auto b = run(clean, sql);
    if (a.status != "ok") {
      ++failures;
      std::cerr << "FAIL query errors: " << sql << "\n  " << a.error;
      return;
    }
    same("read", sql, sent, a, b);
  }

  /// With only_deleted=* on the copy with soft-deleted rows vs. as written on the copy holding only those rows.
  void read_only_deleted(PGconn* deleted, const std::string& sql) {
    rules::Hints hints;
    hints.only_deleted.all = true;
    auto sent = through_engine(sql, nullptr, hints);
    if (sent.empty()) return;
    same("only_deleted read", sql, sent, run(live, sent), run(deleted, sql));
  }

  void visible_state(const std::string& after) {
    for (const char* table : {"humans", "aliens", "ships", "badges", "planets", "visits", "fleet", "crew", "other.ships",
                              "lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll", "members", "authors", "posts",
                              "comments", "reactions", "pins", "staff", "drafts", "slugs", "kin_parent",
                              "kin_child", "kin_refs", "zones", "zone_refs", "tasks", "reviews"}) {
      std::string sql = std::string("SELECT * FROM ") + table;
      auto sent = through_engine(sql);
      same("visible state of " + std::string(table) + " after [" + after + "]", sql, sent, run(live, sent), run(clean, sql));
    }
  }

  void write(const std::string& sql) {
    rules::RewriteResult info;
    auto sent = through_engine(sql, &info);
    if (sent.empty()) return;
    auto a = run(live, sent);
    auto b = run(clean, sql);
    if (a.status != "ok") {
      ++failures;
      std::cerr << "FAIL statement errors: " << sql << "\n  " << a.error;
      return;
    }
    bool is_delete = sql.starts_with("DELETE") && sql.find("visits") == std::string::npos &&
                     sql.find("other.") == std::string::npos;
    if (is_delete && (info.statements.empty() || !info.statements[0].delete_to_update)) {
      ++failures;
      std::cerr << "FAIL DELETE not reported as delete_to_update: " << sql << "\n";
    }
    same("write", sql, sent, a, b);
    visible_state(sql);
  }

  void partial_index_used() {
    run(live, "SET enable_seqscan = off");
    for (const std::string sql : {"EXPLAIN (COSTS OFF) SELECT id FROM humans WHERE name = 'human6'",
                                  "EXPLAIN (COSTS OFF) SELECT a.id FROM aliens a WHERE a.human_id = 7"}) {
      auto sent = through_engine(sql);
      auto plan = run(live, sent);
      std::string text;
      for (const auto& row : plan.rows) text += row + "\n";
      bool uses = text.find("humans_live_name") != std::string::npos || text.find("aliens_live_human") != std::string::npos;
      if (!uses) {
        ++failures;
        std::cerr << "FAIL partial index not used: " << sent << "\n" << text;
      }
    }
    run(live, "RESET enable_seqscan");
  }

  /// A DELETE that cascades finds the target's rows by its primary key (an index), not by scanning it.
  void cascade_uses_index() {
    run(live, "BEGIN");
    run(live, "SET LOCAL enable_seqscan = off");
    const std::string sql = "EXPLAIN (COSTS OFF) DELETE FROM authors WHERE id = 4";
    auto sent = through_engine(sql);
    auto plan = run(live, sent);
    run(live, "ROLLBACK");
    std::string text;
    for (const auto& row : plan.rows) text += row + "\n";
    if (sent.find("__pgsd_rows") == std::string::npos || text.find("Seq Scan on authors") != std::string::npos ||
        text.find("Index Scan using authors_pkey on authors") == std::string::npos) {
      ++failures;
      std::cerr << "FAIL a cascading DELETE scans its table: " << sent << "\n" << text;
    }
  }
};

/// Every join shape the engine places a predicate for: each join kind, with a rule table on either side or
/// both, by ON, USING and NATURAL, and nested inside the nullable or preserved side of another join, bare,
/// in parentheses or behind a join alias.
std::vector<std::string> join_matrix() {
  struct Pair {
    const char* left;
    const char* right;
    const char* on;  ///< the join condition (ON …, USING (…)), or "" for NATURAL
  };
  const Pair pairs[] = {
      {"humans h", "planets p", "ON h.planet_id = p.id"},      // rule – plain
      {"planets p", "humans h", "ON h.planet_id = p.id"},      // plain – rule
      {"aliens a", "humans h", "ON a.human_id = h.id"},        // rule – rule, both kinds
      {"humans h", "aliens a", "ON a.human_id = h.id AND a.tentacles > 2"},
      {"badges b", "visits v", "USING (human_id)"},            // rule – plain by USING
      {"visits v", "badges b", "USING (human_id)"},
      {"badges b", "aliens a", "USING (human_id)"},            // rule – rule by USING
      {"badges b", "visits v", ""},                            // NATURAL
      {"visits v", "badges b", ""},
      {"aliens a", "badges b", ""},
  };
  const char* kinds[] = {"JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"};
  std::vector<std::string> out;
  for (const auto& p : pairs) {
    for (const char* kind : kinds) {
      const std::string join = *p.on ? std::string(p.left) + " " + kind + " " + p.right + " " + p.on
                                     : std::string(p.left) + " NATURAL " + kind + " " + p.right;
      out.push_back("SELECT * FROM " + join);
      // An anti-join and an OR across both sides: where the filter goes decides these.
      if (*p.on && std::string_view(p.on).starts_with("ON")) {
        const std::string l(std::string_view(p.left).substr(std::string_view(p.left).find(' ') + 1));
        const std::string r(std::string_view(p.right).substr(std::string_view(p.right).find(' ') + 1));
        out.push_back("SELECT * FROM " + join + " WHERE " + r + " IS NULL OR " + l + " IS NULL");
      }
    }
    out.push_back("SELECT * FROM " + std::string(p.left) + " CROSS JOIN " + p.right);
    out.push_back("SELECT count(*) FROM " + std::string(p.left) + ", " + p.right);
  }
  // Nesting: an inner join of two rule tables inside another join, as the nullable or the preserved side.
  for (const char* outer : kinds) {
    for (const char* inner : kinds) {
      const std::string ha = std::string("humans h ") + inner + " aliens a ON a.human_id = h.id";
      out.push_back("SELECT * FROM planets p " + std::string(outer) + " (" + ha + ") ON h.planet_id = p.id");
      out.push_back("SELECT * FROM (" + ha + ") " + outer + " planets p ON h.planet_id = p.id");
      out.push_back("SELECT * FROM planets p " + std::string(outer) + " " + ha + " ON h.planet_id = p.id");
      out.push_back("SELECT p.id, j.tentacles, j.age FROM planets p " + std::string(outer) + " (" + ha +
                    ") AS j ON j.tentacles = p.id");
      out.push_back("SELECT * FROM planets p " + std::string(outer) + " (badges b " + inner +
                    " visits v USING (human_id)) ON v.planet_id = p.id");
      out.push_back("SELECT count(*), count(j.badge) FROM (badges b " + std::string(inner) +
                    " visits v USING (human_id)) AS j " + outer + " ships s ON s.owner_id = j.human_id");
    }
  }
  // Chains of joins, and a join inside a subquery of a join.
  out.push_back("SELECT * FROM humans h LEFT JOIN aliens a ON a.human_id = h.id LEFT JOIN ships s ON s.owner_id = h.id "
                "JOIN planets p ON p.id = h.planet_id");
  out.push_back("SELECT * FROM planets p LEFT JOIN humans h JOIN aliens a ON a.human_id = h.id LEFT JOIN ships s "
                "ON s.captain_id = a.id ON h.planet_id = p.id");
  out.push_back("SELECT * FROM planets p LEFT JOIN (SELECT h.id, a.name FROM humans h LEFT JOIN aliens a "
                "ON a.human_id = h.id) x ON x.id = p.id");
  out.push_back("SELECT * FROM planets p WHERE NOT EXISTS (SELECT FROM humans h RIGHT JOIN ships s ON s.owner_id = h.id "
                "WHERE h.planet_id = p.id)");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: " << argv[0]
              << " rules.toml read_queries.sql write_statements.sql conninfo_live conninfo_clean conninfo_deleted\n";
    return 2;
  }
  auto rules = rules::load_rules(argv[1]);
  if (!rules) {
    std::cerr << rules.error().to_string() << "\n";
    return 2;
  }
  Connection live(PQconnectdb(argv[4])), clean(PQconnectdb(argv[5])), deleted(PQconnectdb(argv[6]));
  if (PQstatus(live.get()) != CONNECTION_OK || PQstatus(clean.get()) != CONNECTION_OK ||
      PQstatus(deleted.get()) != CONNECTION_OK) {
    std::cerr << "cannot connect: " << PQerrorMessage(live.get()) << PQerrorMessage(clean.get())
              << PQerrorMessage(deleted.get());
    return 2;
  }
  rules::Engine engine(*rules);
  rules::SearchPath path;
  rules::ResolvedRules resolved(*rules, std::make_shared<const rules::Catalog>(read_catalog(live.get(), path)));
  Checker check{engine, live.get(), clean.get(), &resolved, &path};

  auto reads = read_lines(argv[2]);
  for (auto& q : join_matrix()) reads.push_back(std::move(q));
  for (const auto& q : reads) check.read(q);
  int read_rewritten = check.rewritten;
  // The same queries again: now answered from the rewrite cache where the engine could cache them.
  for (const auto& q : reads) check.read(q);
  for (const auto& q : reads) check.read_only_deleted(deleted.get(), q);
  check.partial_index_used();
  check.cascade_uses_index();
  auto writes = read_lines(argv[3]);
  for (const auto& w : writes) check.write(w);

  auto stats = engine.stats();
  std::cout << reads.size() << " read queries (" << read_rewritten << " rewritten), run twice, and once with "
            << "only_deleted; " << writes.size()
            << " write statements; cache hits " << stats.cache_hits << ", parsed " << stats.parsed << ", fast path "
            << stats.fast_path << "; failures: " << check.failures << "\n";
  if (reads.size() < 150) {
    std::cerr << "FAIL fewer than 150 read queries\n";
    return 1;
  }
  return check.failures == 0 ? 0 : 1;
}
