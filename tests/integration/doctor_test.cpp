// `pgsoftdelete doctor` against real databases: one schema with each problem the doctor knows, one
// with none; exit codes, each check's finding, the fixes it prints run for real (the finding then
// gone), policies, the text output's pointer to the README, connection and configuration errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/cluster.hpp"
#include "support/pq.hpp"
#include "support/process.hpp"

using namespace pgsoftdelete::test;

namespace {

/// One finding of the JSON output: its keys (all strings or null).
using Finding = std::map<std::string, std::optional<std::string>>;

struct Report {
  int status = -1;
  std::string output;
  std::vector<Finding> findings;
  std::map<std::string, long> summary;

  /// Findings of `check` on `table`.
  std::vector<Finding> of(const std::string& check, const std::string& table) const {
    std::vector<Finding> out;
    for (const auto& f : findings)
      if (f.at("check") == check && f.at("table") == table) out.push_back(f);
    return out;
  }
  int count(const std::string& severity) const {
    int n = 0;
    for (const auto& f : findings) n += f.at("severity") == severity;
    return n;
  }
};

/// Reads a JSON string starting at s[i] == '"'; leaves i after it.
std::string read_string(const std::string& s, std::size_t& i) {
  std::string out;
  for (++i; i < s.size() && s[i] != '"'; ++i) {
    if (s[i] != '\\') {
      out.push_back(s[i]);
      continue;
    }
    switch (s[++i]) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 4), nullptr, 16))); i += 4; break;
      default: out.push_back(s[i]);
    }
  }
  ++i;
  return out;
}

/// A flat JSON object of strings, nulls and integers (integers kept as their text).
Finding read_object(const std::string& s) {
  Finding out;
  std::size_t i = s.find('{') + 1;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
    if (i >= s.size() || s[i] == '}') break;
    const std::string key = read_string(s, i);
    i = s.find(':', i) + 1;
    while (s[i] == ' ') ++i;
    if (s[i] == '"') {
      out[key] = read_string(s, i);
    } else if (s.compare(i, 4, "null") == 0) {
      out[key] = std::nullopt;
      i += 4;
    } else {
      std::size_t end = i;
      while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
      out[key] = s.substr(i, end - i);
      i = end;
    }
  }
  return out;
}

/// The doctor's JSON, read line by line: the format puts one finding per line.
Report parse(CommandResult r) {
  Report report{.status = r.status, .output = r.output, .findings = {}, .summary = {}};
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("  {")) report.findings.push_back(read_object(line));
    if (line.starts_with("\"summary\": ")) {
      for (const auto& [k, v] : read_object(line.substr(line.find(": ") + 2))) report.summary[k] = std::stol(*v);
    }
  }
  return report;
}

std::filesystem::path write_file(const std::string& name, const std::string& text) {
  const auto file = std::filesystem::temp_directory_path() / name;
  std::ofstream(file) << text;
  return file;
}

std::string db_conninfo(const std::string& db) { return cluster().conninfo("postgres", "dbname=" + db); }

CommandResult doctor(const std::string& args) {
  return run_command(std::string(PGSD_BINARY) + " doctor " + args);
}

Report doctor_json(const std::string& rules, const std::string& db, const std::string& extra = "") {
  return parse(doctor("--rules " + rules + " --format json --database '" + db_conninfo(db) + "' " + extra));
}

void exec_all(const std::string& conninfo, const std::string& sql) {
  Conn c(conninfo);
  REQUIRE_MESSAGE(c.ok(), c.error());
  auto r = c.exec(sql);
  REQUIRE_MESSAGE(r.ok(), (sql + ": " + r.error()));
}

/// A fresh database `name` with `schema` in it.
void create_database(const std::string& name, const std::string& schema) {
  cluster().sql("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  cluster().sql("CREATE DATABASE " + name);
  exec_all(db_conninfo(name), schema);
}

const std::string problem_rules = R"([[table]]
name = "humans"
[[table]]
name = "toys"
[[table]]
name = "missing_col"
[[table]]
name = "wrong_type"
[[table]]
name = "loose_flag"
[[table]]
name = "stamped"
kind = "timestamp"
column = "deleted_at"
[[table]]
name = "cyc_a"
[[table]]
name = "cyc_b"
[[table]]
name = "ghosts"
)";

// Each table, view, function and role is here for one finding (see the checks below).
const std::string problem_schema = R"(
DO $$ BEGIN CREATE ROLE doctor_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE humans (id int PRIMARY KEY, email text UNIQUE, nick text, code text UNIQUE, name text,
                     is_deleted boolean NOT NULL DEFAULT false);
CREATE UNIQUE INDEX humans_nick_idx ON humans (nick);
CREATE INDEX humans_name_idx ON humans (name);
CREATE INDEX humans_deleted_idx ON humans (is_deleted);
CREATE TABLE plain_notes (id int, human_id int REFERENCES humans ON DELETE CASCADE);
CREATE TABLE badges (id int, human_code text REFERENCES humans (code));
CREATE TABLE toys (id int, is_deleted boolean NOT NULL DEFAULT false);
CREATE TABLE old_toys (human_id int REFERENCES humans ON DELETE CASCADE) INHERITS (toys);
CREATE VIEW humans_view AS SELECT id, name FROM humans;
CREATE VIEW live_humans AS SELECT id, name FROM humans WHERE NOT is_deleted;
CREATE MATERIALIZED VIEW humans_mv AS SELECT count(*) AS n FROM humans;
CREATE RULE humans_on_delete AS ON DELETE TO humans DO ALSO NOTIFY humans_deleted;
CREATE FUNCTION count_humans() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM humans';
CREATE FUNCTION count_live() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM humans WHERE NOT is_deleted';
CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN OLD; END';
CREATE TRIGGER humans_audit AFTER DELETE ON humans FOR EACH ROW EXECUTE FUNCTION audit();
GRANT SELECT ON humans TO doctor_reader;
CREATE TABLE missing_col (id int);
CREATE TABLE wrong_type (id int, is_deleted int NOT NULL DEFAULT 0);
CREATE TABLE loose_flag (id int, is_deleted boolean);
INSERT INTO loose_flag VALUES (1, NULL), (2, true);
CREATE TABLE stamped (id int, deleted_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE cyc_a (id int PRIMARY KEY, b_id int, is_deleted boolean NOT NULL DEFAULT false);
CREATE TABLE cyc_b (id int PRIMARY KEY, a_id int REFERENCES cyc_a ON DELETE CASCADE, is_deleted boolean NOT NULL DEFAULT false);
ALTER TABLE cyc_a ADD FOREIGN KEY (b_id) REFERENCES cyc_b ON DELETE CASCADE;
)";

/// (check, table) of every finding the problem schema must give, with its severity.
struct Expected {
  std::string check, table, severity;
  bool fix;  ///< whether the finding carries SQL
};
const std::vector<Expected> expected_problems = {
    {"rule_no_table", "", "warning", false},
    {"column_missing", "public.missing_col", "error", true},
    {"column_type", "public.wrong_type", "error", true},
    {"column_nullable", "public.loose_flag", "warning", true},
    {"column_default", "public.loose_flag", "warning", true},
    {"column_nullable", "public.stamped", "error", true},
    {"column_default", "public.stamped", "warning", true},
    {"unique_full_key", "public.humans", "info", false},  // the primary key and code (referenced)
    {"unique_not_partial", "public.humans", "warning", true},
    {"index_no_live_twin", "public.humans", "info", true},
    {"fk_action_plain_child", "public.humans", "error", false},
    {"fk_action_rule_child", "public.humans", "info", false},
    {"fk_restrict", "public.humans", "warning", false},
    {"fk_cascade_refused", "public.cyc_a", "error", false},  // a cycle of CASCADE keys: the proxy refuses
    {"fk_cascade_refused", "public.cyc_b", "error", false},
    {"view_unfiltered", "public.humans", "warning", true},
    {"matview_unfiltered", "public.humans", "warning", false},
    {"rewrite_rule", "public.humans", "warning", false},
    {"function_reads_table", "public.humans", "warning", false},
    {"trigger_on_table", "public.humans", "warning", false},
    {"pg_stats_readable", "public.humans", "info", false},
};

bool mentions(const Finding& f, const std::string& text) {
  return f.at("message") && f.at("message")->find(text) != std::string::npos;
}

/// The fix's statements, one at a time (CREATE INDEX CONCURRENTLY cannot share a transaction).
std::vector<std::string> statements(const std::string& fix) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t at; (at = fix.find(";\n", start)) != std::string::npos; start = at + 2)
    out.push_back(fix.substr(start, at + 1 - start));
  if (start < fix.size()) out.push_back(fix.substr(start));
  return out;
}

}  // namespace

TEST_CASE("doctor: a schema with each problem gets each finding, and exit code 2") {
  create_database("doctor_problems", problem_schema);
  const auto rules = write_file("pgsd-doctor-problems.toml", problem_rules).string();
  const auto r = doctor_json(rules, "doctor_problems");
  INFO(r.output);
  CHECK(r.status == 2);
  for (const auto& e : expected_problems) {
    CAPTURE(e.check);
    CAPTURE(e.table);
    std::vector<Finding> found;
    for (const auto& f : r.findings)
      if (f.at("check") == e.check && f.at("table").value_or("") == e.table && f.at("severity") == e.severity)
        found.push_back(f);
    REQUIRE(!found.empty());
    CHECK(found[0].at("database") == "doctor_problems");
    CHECK(found[0].at("fix").has_value() == e.fix);
  }
  // Details that tell the findings of one check apart.
  const auto uniques = r.of("unique_not_partial", "public.humans");
  CHECK(uniques.size() == 2);  // the email constraint and the nick index; code is referenced, so info
  for (const auto& f : uniques) {
    const auto& fix = f.at("fix").value_or("");
    if (mentions(f, "humans_email_key")) {
      CHECK(fix.find("CREATE UNIQUE INDEX CONCURRENTLY humans_email_key_live ON public.humans USING btree (email) "
                     "WHERE NOT is_deleted;") != std::string::npos);
      CHECK(fix.find("ALTER TABLE public.humans DROP CONSTRAINT humans_email_key;") != std::string::npos);
    } else {
      CHECK(mentions(f, "humans_nick_idx"));
      CHECK(fix.find("DROP INDEX CONCURRENTLY public.humans_nick_idx;") != std::string::npos);
    }
  }
  const auto kept = r.of("unique_full_key", "public.humans");
  REQUIRE(kept.size() == 2);
  CHECK((mentions(kept[0], "primary key humans_pkey") || mentions(kept[1], "primary key humans_pkey")));
  CHECK((mentions(kept[0], "foreign key references it") || mentions(kept[1], "foreign key references it")));
  // One twin to suggest: humans_name_idx; the index on is_deleted alone serves deleted-row queries.
  const auto twins = r.of("index_no_live_twin", "public.humans");
  REQUIRE(twins.size() == 1);
  CHECK(twins[0].at("fix") == "CREATE INDEX CONCURRENTLY humans_name_idx_live ON public.humans USING btree (name) "
                              "WHERE NOT is_deleted;");
  // old_toys is a rule table through inheritance (toys): its ON DELETE CASCADE is followed.
  const auto followed = r.of("fk_action_rule_child", "public.humans");
  REQUIRE(followed.size() == 1);
  CHECK(mentions(followed[0], "from public.old_toys"));
  const auto refused = r.of("fk_action_plain_child", "public.humans");
  REQUIRE(refused.size() == 1);
  CHECK(mentions(refused[0], "from public.plain_notes"));
  CHECK(mentions(r.of("fk_restrict", "public.humans").at(0), "from public.badges"));
  // The view with NOT is_deleted in it, and the function that filters, are taken as filtered.
  const auto views = r.of("view_unfiltered", "public.humans");
  REQUIRE(views.size() == 1);
  CHECK(mentions(views[0], "public.humans_view"));
  const auto functions = r.of("function_reads_table", "public.humans");
  REQUIRE(functions.size() == 1);
  CHECK(mentions(functions[0], "public.count_humans()"));
  CHECK(mentions(functions[0], "textual match"));
  CHECK(mentions(r.of("pg_stats_readable", "public.humans").at(0), "doctor_reader"));
  CHECK(mentions(r.of("trigger_on_table", "public.humans").at(0), "fires on DELETE"));
  // The summary counts what was listed.
  CHECK(r.summary.at("databases") == 1);
  CHECK(r.summary.at("error") == r.count("error"));
  CHECK(r.summary.at("warning") == r.count("warning"));
  CHECK(r.summary.at("info") == r.count("info"));
  CHECK(r.summary.at("error") + r.summary.at("warning") + r.summary.at("info") ==
        static_cast<long>(r.findings.size()));
}

TEST_CASE("doctor: findings come in the same order every time") {
  create_database("doctor_order", problem_schema);
  const auto rules = write_file("pgsd-doctor-order.toml", problem_rules).string();
  const auto a = doctor_json(rules, "doctor_order");
  const auto b = doctor_json(rules, "doctor_order");
  REQUIRE(a.findings.size() > 10);
  CHECK(a.output == b.output);
  // Rules in file order: humans (line 2) first, ghosts (the last rule) last.
  CHECK(a.findings.front().at("rule") == "humans");
  CHECK(a.findings.back().at("rule") == "ghosts");
}

TEST_CASE("doctor: the fixes it prints work, and their findings are gone afterwards") {
  create_database("doctor_fixes", problem_schema);
  const auto rules = write_file("pgsd-doctor-fixes.toml", problem_rules).string();
  const auto before = doctor_json(rules, "doctor_fixes");
  REQUIRE(before.status == 2);

  // Views are fixed through the proxy, which adds the live-rows condition; the rest straight on
  // the server, statement by statement as psql would send them.
  ProxyProcess proxy({"--upstream", cluster().endpoint(), "--rules", rules});
  REQUIRE(wait_for_port(proxy.port(), std::chrono::seconds(10)));
  std::vector<Finding> fixed;
  for (const auto& f : before.findings) {
    if (!f.at("fix")) continue;
    const bool through_proxy = f.at("check") == "view_unfiltered";
    Conn c(through_proxy ? proxy.conninfo("postgres", "dbname=doctor_fixes") : db_conninfo("doctor_fixes"));
    REQUIRE_MESSAGE(c.ok(), c.error());
    for (const auto& sql : statements(*f.at("fix"))) {
      auto result = c.exec(sql);
      CHECK_MESSAGE(result.ok(), (sql + ": " + result.error()));
    }
    fixed.push_back(f);
  }
  // Every kind of fix was run.
  std::vector<std::string> checks;
  for (const auto& f : fixed) checks.push_back(*f.at("check"));
  for (const char* c : {"column_missing", "column_type", "column_nullable", "column_default", "unique_not_partial",
                        "index_no_live_twin", "view_unfiltered"})
    CHECK_MESSAGE(std::find(checks.begin(), checks.end(), c) != checks.end(), c);

  const auto after = doctor_json(rules, "doctor_fixes");
  INFO(after.output);
  for (const auto& f : fixed) {
    CAPTURE(*f.at("message"));
    bool still = false;
    for (const auto& g : after.findings)
      still = still || (g.at("check") == f.at("check") && g.at("table") == f.at("table") &&
                        g.at("message") == f.at("message"));
    CHECK(!still);
  }
  // The type fixed, the default (dropped with the old type) is asked for next.
  CHECK(after.of("column_default", "public.wrong_type").size() == 1);
  // The partial indexes are there and valid, and loose_flag's NULL became false (a live row).
  Conn c(db_conninfo("doctor_fixes"));
  CHECK(c.scalar("SELECT count(*) FROM pg_index WHERE indisvalid AND indpred IS NOT NULL AND "
                 "indrelid = 'humans'::regclass") == "3");
  CHECK(c.scalar("SELECT count(*) FROM loose_flag WHERE NOT is_deleted") == "1");
  CHECK(c.scalar("SELECT pg_get_viewdef('humans_view'::regclass)").find("NOT humans.is_deleted") !=
        std::string::npos);
}

TEST_CASE("doctor: a clean schema has nothing above info, exit 0 even with --strict") {
  create_database("doctor_clean", R"(
CREATE TABLE humans (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text, name text,
                     is_deleted boolean NOT NULL DEFAULT false);
CREATE UNIQUE INDEX humans_live_email ON humans (email) WHERE NOT is_deleted;
CREATE INDEX humans_live_name ON humans (name) WHERE is_deleted = false;
CREATE TABLE pets (id int, human_id bigint REFERENCES humans ON DELETE CASCADE,
                   is_deleted boolean NOT NULL DEFAULT false);
CREATE INDEX pets_live_human ON pets (human_id) WHERE NOT is_deleted;
CREATE TABLE orders (id int, ref text, deleted_at timestamptz);
CREATE UNIQUE INDEX orders_live_ref ON orders (ref) WHERE deleted_at IS NULL;
CREATE VIEW live_humans AS SELECT h.id, h.name FROM humans h WHERE NOT h.is_deleted;
)");
  const auto rules = write_file("pgsd-doctor-clean.toml", R"([[table]]
name = "humans"
[[table]]
name = "pets"
[[table]]
name = "public.orders"
kind = "timestamp"
column = "deleted_at"
)").string();
  const auto r = doctor_json(rules, "doctor_clean", "--strict");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.summary.at("error") == 0);
  CHECK(r.summary.at("warning") == 0);
  CHECK(r.count("error") + r.count("warning") == 0);
  // What info remains: the primary key, and the cascade the proxy follows.
  CHECK(r.of("unique_full_key", "public.humans").size() == 1);
  CHECK(r.of("fk_action_rule_child", "public.humans").size() == 1);
  CHECK(r.findings.size() == 2);

  // With the defaults: one connection to the configured upstream, the rest from PG* variables.
  const auto config = write_file("pgsd-doctor-clean-config.toml",
                                 "upstream = \"" + cluster().endpoint() + "\"\nrules = \"" + rules + "\"\n");
  const auto by_env = parse(run_command("PGUSER=postgres PGDATABASE=doctor_clean " + std::string(PGSD_BINARY) +
                                        " doctor --config " + config.string() + " --format json --strict"));
  CHECK(by_env.status == 0);
  REQUIRE(!by_env.findings.empty());
  CHECK(by_env.findings[0].at("database") == "doctor_clean");
}

TEST_CASE("doctor: warnings only exit 0, or 1 with --strict") {
  create_database("doctor_warnings", "CREATE TABLE loose_flag (id int, is_deleted boolean);");
  const auto rules = write_file("pgsd-doctor-warnings.toml", "[[table]]\nname = \"loose_flag\"\n").string();
  const auto plain = doctor_json(rules, "doctor_warnings");
  CHECK(plain.status == 0);
  CHECK(plain.count("warning") == 2);
  CHECK(plain.count("error") == 0);
  CHECK(doctor_json(rules, "doctor_warnings", "--strict").status == 1);
}

TEST_CASE("doctor: the foreign-key policies change what a key means") {
  create_database("doctor_policies", problem_schema);
  const auto allow = write_file("pgsd-doctor-allow.toml",
                                problem_rules + "[policy]\nforeign_key_actions = \"allow\"\ncascade = \"off\"\n")
                         .string();
  const auto r = doctor_json(allow, "doctor_policies");
  INFO(r.output);
  // Allowed: the soft delete goes through, leaving plain_notes' rows behind: a warning.
  const auto plain = r.of("fk_action_plain_child", "public.humans");
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].at("severity") == "warning");
  // cascade = "off": old_toys' rows stay live: a warning, where the default gave info.
  const auto rule_child = r.of("fk_action_rule_child", "public.humans");
  REQUIRE(rule_child.size() == 1);
  CHECK(rule_child[0].at("severity") == "warning");
  CHECK(mentions(rule_child[0], "cascade = \"off\""));
}

TEST_CASE("doctor: text output names the findings and points to the README section") {
  create_database("doctor_text", problem_schema);
  const auto rules = write_file("pgsd-doctor-text.toml", problem_rules).string();
  const auto r = doctor("--rules " + rules + " --database '" + db_conninfo("doctor_text") + "'");
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK(r.output.find("[error] doctor_text: public.missing_col (rule missing_col): column_missing") !=
        std::string::npos);
  CHECK(r.output.find("      ALTER TABLE public.missing_col ADD COLUMN is_deleted boolean NOT NULL DEFAULT false;") !=
        std::string::npos);
  CHECK(r.output.find("see README.md, section \"Designing tables for soft delete\"") != std::string::npos);
  CHECK(r.output.find("pgsoftdelete doctor: ") != std::string::npos);
  // The section it points to exists.
  std::ifstream readme(std::string(PGSD_SOURCE_DIR) + "/README.md");
  std::stringstream text;
  text << readme.rdbuf();
  CHECK(text.str().find("\n## Designing tables for soft delete\n") != std::string::npos);
}

TEST_CASE("doctor: no connection, a bad configuration or bad flags exit 2 with the reason") {
  const auto rules = write_file("pgsd-doctor-conn.toml", "[[table]]\nname = \"humans\"\n").string();
  const auto port = std::to_string(free_port());
  const auto down = doctor("--rules " + rules + " --database 'host=127.0.0.1 port=" + port + " dbname=nowhere'");
  CHECK(down.status == 2);
  CHECK(down.output.find("cannot connect to database \"nowhere\" on 127.0.0.1:" + port) != std::string::npos);

  const auto bad_rules = write_file("pgsd-doctor-bad.toml", "[[table]]\nname = \"humans\"\ncolum = \"x\"\n");
  const auto broken = doctor("--rules " + bad_rules.string());
  CHECK(broken.status == 2);
  CHECK(broken.output.find(bad_rules.string() + ":3:") != std::string::npos);

  const auto config = write_file("pgsd-doctor-bad-config.toml", "io_thread = 2\n");
  const auto bad_config = doctor("--config " + config.string());
  CHECK(bad_config.status == 2);
  CHECK(bad_config.output.find(config.string() + ":1: unknown key \"io_thread\"") != std::string::npos);

  const auto no_rules = doctor("--config " + write_file("pgsd-doctor-norules.toml", "").string());
  CHECK(no_rules.status == 2);
  CHECK(no_rules.output.find("names no rules file") != std::string::npos);

  CHECK(doctor("").status == 2);
  CHECK(doctor("--rules " + rules + " --format xml").status == 2);
}
