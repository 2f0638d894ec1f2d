// The rules file loader: defaults, every option, and errors naming file, line and problem.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "rules/identifier.hpp"
#include "rules/load_rules.hpp"

namespace pgsoftdelete::rules {

TEST_CASE("rules: the smallest file is a list of names") {
  auto r = load_rules_from_string("[[table]]\nname = \"humans\"\n[[table]]\nname = \"aliens\"\n", "min.toml");
  REQUIRE(r);
  const auto& rules = **r;
  REQUIRE(rules.tables().size() == 2);
  const auto* h = rules.find("", "humans");
  REQUIRE(h);
  CHECK(h->column == "is_deleted");
  CHECK(h->kind == DeletedKind::flag);
  CHECK(h->on_delete_set.empty());
  CHECK(rules.truncate_policy() == Policy::reject);
  CHECK(rules.merge_policy() == Policy::reject);
  CHECK(rules.skip_users().allows("anyone"));
  CHECK(rules.hard_delete_users().allows("anyone"));
  CHECK(rules.find("other_schema", "humans") == h);  // unqualified rule: any schema
  CHECK(rules.find("", "planets") == nullptr);
}

TEST_CASE("rules: every option") {
  auto r = load_rules_from_string(R"(
column = "deleted"
kind = "flag"
on_delete_set = { deleted_by = "current_user" }

[policy]
truncate = "allow"
merge = "reject"

[hints]
skip_users = ["admin", "auditor"]
hard_delete_users = ["admin"]

[[table]]
name = "public.humans"

[[table]]
name = 'app."Aliens"'
column = "Deleted_At"
kind = "timestamp"
on_delete_set = {}
)", "full.toml");
  REQUIRE_MESSAGE(r, (r ? "" : r.error().to_string()));
  const auto& rules = **r;
  const auto* h = rules.find("public", "humans");
  REQUIRE(h);
  CHECK(h->schema == "public");
  CHECK(h->column == "deleted");
  REQUIRE(h->on_delete_set.size() == 1);
  CHECK(h->on_delete_set[0].column == "deleted_by");
  CHECK(h->on_delete_set[0].expression == "current_user");
  CHECK(rules.find("", "humans") == h);          // unqualified reference: may be that table
  CHECK(rules.find("other", "humans") == nullptr);
  const auto* a = rules.find("app", "Aliens");
  REQUIRE(a);
  CHECK(a->column == "deleted_at");  // unquoted: folded
  CHECK(a->kind == DeletedKind::timestamp);
  CHECK(a->on_delete_set.empty());
  CHECK(rules.find("app", "aliens") == nullptr);  // quoted: case kept
  CHECK(rules.truncate_policy() == Policy::allow);
  CHECK(rules.skip_users().allows("auditor"));
  CHECK_FALSE(rules.skip_users().allows("app"));
  CHECK_FALSE(rules.hard_delete_users().allows("auditor"));
  CHECK(h->live_predicate("h") == "NOT h.deleted");
  CHECK(a->live_predicate("") == "deleted_at IS NULL");
  CHECK(a->deleted_predicate("x") == "x.deleted_at IS NOT NULL");
  CHECK(a->display_name() == "app.\"Aliens\"");
}

struct BadFile {
  const char* name;
  const char* toml;
  int line;
  const char* message_part;
};

TEST_CASE("rules: errors name the file, the line and the problem") {
  const std::vector<BadFile> bad = {
      {"TOML syntax", "[[table]]\nname = \"humans\n", 2, ""},
      {"unknown key", "[[table]]\nname = \"humans\"\ncolum = \"x\"\n", 3, "unknown key 'colum' in [[table]]"},
      {"unknown top-level key", "colour = 1\n", 1, "unknown key 'colour'"},
      {"wrong type", "[[table]]\nname = 3\n", 2, "'name' must be a string"},
      {"missing name", "[[table]]\ncolumn = \"x\"\n", 1, "without 'name'"},
      {"duplicate table", "[[table]]\nname = \"humans\"\n[[table]]\nname = \"HUMANS\"\n", 4, "duplicate table humans (first at line 2)"},
      {"bad identifier", "[[table]]\nname = \"1humans\"\n", 2, "bad identifier for 'name'"},
      {"bad qualified identifier", "[[table]]\nname = \"a.b.c\"\n", 2, "bad identifier"},
      {"bad column", "[[table]]\nname = \"humans\"\ncolumn = \"is deleted\"\n", 3, "bad identifier for 'column'"},
      {"bad kind", "[[table]]\nname = \"humans\"\nkind = \"bool\"\n", 3, "'kind' must be \"flag\" or \"timestamp\""},
      {"bad policy", "[policy]\ntruncate = \"maybe\"\n", 2, "'truncate' must be \"reject\" or \"allow\""},
      {"bad users", "[hints]\nskip_users = \"admin\"\n", 2, "'skip_users' must be an array"},
      {"injection in assignment", "on_delete_set = { x = \"1; DROP TABLE humans\" }\n[[table]]\nname = \"h\"\n", 1, "not a single SQL expression"},
      {"assignment with WHERE", "[[table]]\nname = \"h\"\non_delete_set = { x = \"1 WHERE false\" }\n", 3, "not a single SQL expression"},
      {"table not an array", "[table]\nname = \"humans\"\n", 1, "write [[table]]"},
      {"ambiguous schemas", "[[table]]\nname = \"a.h\"\n[[table]]\nname = \"b.h\"\ncolumn = \"x\"\n", 4, "same column"},
  };
  for (const auto& b : bad) {
    std::string name = b.name;
    CAPTURE(name);
    auto r = load_rules_from_string(b.toml, "bad.toml");
    REQUIRE_FALSE(r);
    CHECK(r.error().file == "bad.toml");
    CHECK(r.error().line == b.line);
    CAPTURE(r.error().message);
    CHECK(r.error().message.find(b.message_part) != std::string::npos);
    CHECK(r.error().to_string().starts_with("bad.toml:" + std::to_string(b.line) + ": "));
  }
}

TEST_CASE("rules: loading from a file, and a missing file") {
  auto path = std::filesystem::temp_directory_path() / "pgsd_rules_test.toml";
  {
    std::ofstream out(path);
    out << "[[table]]\nname = \"humans\"\n";
  }
  auto r = load_rules(path);
  REQUIRE(r);
  CHECK((*r)->tables().size() == 1);
  std::filesystem::remove(path);
  auto missing = load_rules(path);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().file == path.string());
  CHECK(missing.error().message.find("cannot open") != std::string::npos);
}

TEST_CASE("rules: the example conf/rules.toml loads") {
  auto r = load_rules(std::filesystem::path(PGSD_SOURCE_DIR) / "conf" / "rules.toml");
  REQUIRE_MESSAGE(r, (r ? "" : r.error().to_string()));
  CHECK((*r)->find("", "humans") != nullptr);
  CHECK((*r)->find("", "aliens") != nullptr);
}

TEST_CASE("rules: each load gets a new version") {
  auto a = load_rules_from_string("", "a.toml");
  auto b = load_rules_from_string("", "b.toml");
  REQUIRE(a);
  REQUIRE(b);
  CHECK((*a)->version() != (*b)->version());
}

}  // namespace pgsoftdelete::rules

namespace pgsoftdelete::rules {

TEST_CASE("rules: generated SQL quotes keyword and odd column names") {
  CHECK(quote_identifier("is_deleted") == "is_deleted");
  CHECK(quote_identifier("type") == "type");        // unreserved keyword: fine bare
  CHECK(quote_identifier("order") == "\"order\"");  // reserved
  CHECK(quote_identifier("none") == "\"none\"");    // column-name keyword
  CHECK(quote_identifier("position") == "\"position\"");
  CHECK(quote_identifier("Deleted") == "\"Deleted\"");
  CHECK(quote_identifier("a\"b") == "\"a\"\"b\"");
  auto r = load_rules_from_string("[[table]]\nname = \"humans\"\ncolumn = \"none\"\non_delete_set = { \"user\" = \"current_user\" }\n", "k.toml");
  REQUIRE(r);
  const auto* h = (*r)->find("", "humans");
  REQUIRE(h);
  CHECK(h->live_predicate("h") == "NOT h.\"none\"");
  CHECK(h->delete_assignments() == "\"none\" = true, \"user\" = current_user");
}

}  // namespace pgsoftdelete::rules
