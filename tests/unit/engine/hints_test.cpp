// Hints: parsing, statement comments, session hints, SET/RESET tracking info, and who may use them.
#include <doctest/doctest.h>

#include <string>

#include "test_support.hpp"

namespace pgsoftdelete::test {

using rules::HintKind;
using rules::HintSetting;
using rules::Hints;

#define H(alias) "(SELECT * FROM humans WHERE NOT is_deleted) " alias
#define HD(alias) "(SELECT * FROM humans WHERE is_deleted) " alias

TEST_CASE("hints: table lists") {
  auto s = rules::parse_table_set(" humans, public.aliens ,\"Mixed\" ");
  REQUIRE(s);
  CHECK_FALSE(s->all);
  REQUIRE(s->names.size() == 3);
  CHECK(s->names[1].schema == "public");
  CHECK(s->names[2].name == "Mixed");
  auto all = rules::parse_table_set("*");
  REQUIRE(all);
  CHECK(all->all);
  auto empty = rules::parse_table_set("");
  REQUIRE(empty);
  CHECK(empty->empty());
  CHECK_FALSE(rules::parse_table_set("humans,,aliens"));
  CHECK_FALSE(rules::parse_table_set("a b"));
}

TEST_CASE("hints: comments") {
  auto h = rules::parse_hint_comment("/* pgsoftdelete: skip=humans,aliens hard_delete=* */");
  REQUIRE(h);
  REQUIRE(h->has_value());
  CHECK((*h)->skip.names.size() == 2);
  CHECK((*h)->hard_delete.all);
  auto spaced = rules::parse_hint_comment("/*pgsoftdelete:skip = humans, aliens; only_deleted=aliens*/");
  REQUIRE(spaced);
  REQUIRE(spaced->has_value());
  CHECK((*spaced)->skip.names.size() == 2);
  CHECK((*spaced)->only_deleted.names.size() == 1);
  auto line = rules::parse_hint_comment("-- pgsoftdelete: only_deleted=humans");
  REQUIRE(line);
  REQUIRE(line->has_value());
  auto other = rules::parse_hint_comment("/*+ SeqScan(h) */");
  REQUIRE(other);
  CHECK_FALSE(other->has_value());
  CHECK_FALSE(rules::parse_hint_comment("/* pgsoftdelete skip=humans */"));
}

TEST_CASE("hints: the sqlcommenter form") {
  struct Case {
    const char* name;
    const char* comment;
    bool ours;
    std::size_t skip = 0, only_deleted = 0;
    bool hard_delete_all = false;
  };
  const Case cases[] = {
      {"one key", "/*pgsoftdelete.skip='humans'*/", true, 1},
      {"percent-encoded comma", "/*pgsoftdelete.skip='humans%2Caliens'*/", true, 2},
      {"percent-encoded key", "/*pgsoftdelete%2Eskip='humans'*/", true, 1},
      {"among others", "/*action='list',pgsoftdelete.only_deleted='humans',traceparent='00-ab-cd-01'*/", true, 0, 1},
      {"spaces around", "/* pgsoftdelete.hard_delete='%2A' , route='%2Fusers' */", true, 0, 0, true},
      {"two keys", "/*pgsoftdelete.skip='aliens',pgsoftdelete.only_deleted='humans'*/", true, 1, 1},
      {"escaped quote in another value", "/*note='it\\'s',pgsoftdelete.skip='humans'*/", true, 1},
      {"no key of ours", "/*controller='index',framework='rails'*/", false},
      {"a mention of the product", "/* see the pgsoftdelete docs */", false},
  };
  for (const auto& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    auto h = rules::parse_hint_comment(c.comment);
    REQUIRE_MESSAGE(h, (h ? "" : h.error().message));
    REQUIRE(h->has_value() == c.ours);
    if (!c.ours) continue;
    CHECK((*h)->skip.names.size() == c.skip);
    CHECK((*h)->only_deleted.names.size() == c.only_deleted);
    CHECK((*h)->hard_delete.all == c.hard_delete_all);
  }
  // The last: a line comment is never sqlcommenter, and one addressed to pgsoftdelete must be a hint.
  for (const char* bad : {"/*pgsoftdelete.skipp='humans'*/", "/*pgsoftdelete.skip='hu%2'*/", "/*pgsoftdelete.skip='a b'*/",
                          "-- pgsoftdelete.skip='humans'", "/* just a pgsoftdelete.skip mention */",
                          "/*a='x',pgsoftdelete.only_deleted='humans',junk*/", "/*junk,pgsoftdelete.skip='humans'*/",
                          "/* tag pgsoftdelete: skip=humans */"}) {
    CAPTURE(bad);
    auto h = rules::parse_hint_comment(bad);
    REQUIRE_FALSE(h);
    CHECK(h.error().sqlstate == "22023");
  }
}

struct HintCase {
  const char* name;
  const char* sql;
  const char* expected;  // nullptr: unchanged
};

TEST_CASE("hints: statement comments change the rewrite") {
  const HintCase cases[] = {
      {"skip one", "/* pgsoftdelete: skip=humans */ SELECT * FROM humans JOIN aliens a ON true",
       "/* pgsoftdelete: skip=humans */ SELECT * FROM humans JOIN aliens a ON true WHERE a.deleted_at IS NULL"},
      {"skip all", "/* pgsoftdelete: skip=* */ SELECT * FROM humans JOIN aliens a ON true", nullptr},
      {"only_deleted", "/* pgsoftdelete: only_deleted=humans */ SELECT * FROM humans h", "/* pgsoftdelete: only_deleted=humans */ SELECT * FROM humans h WHERE h.is_deleted"},
      {"only_deleted wins over skip", "/* pgsoftdelete: skip=* only_deleted=humans */ SELECT * FROM humans",
       "/* pgsoftdelete: skip=* only_deleted=humans */ SELECT * FROM humans WHERE humans.is_deleted"},
      {"line comment", "-- pgsoftdelete: skip=humans\nSELECT * FROM humans", nullptr},
      {"hard_delete", "/* pgsoftdelete: hard_delete=humans */ DELETE FROM humans WHERE id = 1",
       "/* pgsoftdelete: hard_delete=humans */ DELETE FROM humans WHERE (id = 1) AND NOT humans.is_deleted"},
      {"hard_delete of deleted rows (purge)", "/* pgsoftdelete: hard_delete=humans only_deleted=humans */ DELETE FROM humans",
       "/* pgsoftdelete: hard_delete=humans only_deleted=humans */ DELETE FROM humans WHERE humans.is_deleted"},
      {"skip on DELETE: soft delete without live filter", "/* pgsoftdelete: skip=humans */ DELETE FROM humans WHERE id = 1",
       "/* pgsoftdelete: skip=humans */ UPDATE humans SET is_deleted = true WHERE id = 1"},
      {"only_deleted UPDATE (undelete)", "/* pgsoftdelete: only_deleted=humans */ UPDATE humans SET is_deleted = false WHERE id = 2",
       "/* pgsoftdelete: only_deleted=humans */ UPDATE humans SET is_deleted = false WHERE (id = 2) AND humans.is_deleted"},
      {"hard_delete allows TRUNCATE", "/* pgsoftdelete: hard_delete=humans */ TRUNCATE humans", nullptr},
      {"hint applies to its statement only", "/* pgsoftdelete: skip=humans */ SELECT * FROM humans; SELECT * FROM humans",
       "/* pgsoftdelete: skip=humans */ SELECT * FROM humans; SELECT * FROM humans WHERE NOT humans.is_deleted"},
      {"hint on a later statement", "SELECT * FROM humans; /* pgsoftdelete: skip=humans */ SELECT * FROM humans",
       "SELECT * FROM humans WHERE NOT humans.is_deleted; /* pgsoftdelete: skip=humans */ SELECT * FROM humans"},
      {"at the end (Rails annotate, sqlcommenter)", "SELECT * FROM humans /* pgsoftdelete: skip=humans */", nullptr},
      {"after SELECT (SQLAlchemy prefix_with)", "SELECT /* pgsoftdelete: skip=humans */ * FROM humans", nullptr},
      {"inside the subquery SQLAlchemy's count() wraps",
       "SELECT count(*) AS count_1 FROM (SELECT /* pgsoftdelete: skip=* */ humans.id FROM humans) AS anon_1", nullptr},
      {"applies to the whole statement", "SELECT * FROM humans WHERE id IN (SELECT /* pgsoftdelete: skip=humans */ 1) "
                                         "AND EXISTS (SELECT 1 FROM humans h2)", nullptr},
      {"-- lines before the statement (EF Core TagWith)", "-- Get humans\n-- pgsoftdelete: skip=humans\nSELECT * FROM humans",
       nullptr},
      {"-- line at the end", "SELECT * FROM humans -- pgsoftdelete: skip=humans", nullptr},
      {"after the string's final ';' (Sequelize)", "SELECT * FROM humans; /* pgsoftdelete: skip=humans */", nullptr},
      {"after a middle ';': the next statement's", "SELECT * FROM humans; /* pgsoftdelete: skip=humans */ SELECT 1 FROM humans",
       "SELECT * FROM humans WHERE NOT humans.is_deleted; /* pgsoftdelete: skip=humans */ SELECT 1 FROM humans"},
      {"in the middle statement only",
       "SELECT 1 FROM humans; SELECT 2 FROM humans /* pgsoftdelete: skip=humans */; SELECT 3 FROM humans",
       "SELECT 1 FROM humans WHERE NOT humans.is_deleted; SELECT 2 FROM humans /* pgsoftdelete: skip=humans */; SELECT 3 FROM humans WHERE NOT humans.is_deleted"},
      {"several comments combine", "/* pgsoftdelete: skip=humans */ SELECT * FROM humans, aliens /* pgsoftdelete: skip=aliens */",
       nullptr},
      {"sqlcommenter", "SELECT * FROM humans /*pgsoftdelete.skip='humans',traceparent='00-0af7651916cd43dd-b7ad6b7169203331-01'*/",
       nullptr},
      {"sqlcommenter, percent-encoded list", "SELECT * FROM humans, aliens /*pgsoftdelete.skip='humans%2Caliens'*/", nullptr},
      {"sqlcommenter, hint key not first", "SELECT * FROM humans /*action='index',pgsoftdelete.only_deleted='humans'*/",
       "SELECT * FROM humans WHERE humans.is_deleted /*action='index',pgsoftdelete.only_deleted='humans'*/"},
      {"sqlcommenter without our keys", "SELECT * FROM humans /*action='index',framework='django'*/",
       "SELECT * FROM humans WHERE NOT humans.is_deleted /*action='index',framework='django'*/"},
      {"in a string literal: not a comment", "SELECT '/* pgsoftdelete: skip=humans */' FROM humans",
       "SELECT '/* pgsoftdelete: skip=humans */' FROM humans WHERE NOT humans.is_deleted"},
      {"in a dollar-quoted string: not a comment", "SELECT $$ -- pgsoftdelete: skip=humans\n$$ FROM humans",
       "SELECT $$ -- pgsoftdelete: skip=humans\n$$ FROM humans WHERE NOT humans.is_deleted"},
      {"in an identifier: not a comment", "SELECT 1 AS \"/* pgsoftdelete: skip=humans */\" FROM humans",
       "SELECT 1 AS \"/* pgsoftdelete: skip=humans */\" FROM humans WHERE NOT humans.is_deleted"},
      {"schema-qualified hint", "/* pgsoftdelete: skip=public.humans */ SELECT * FROM public.humans", nullptr},
      {"schema-qualified hint, unqualified reference", "/* pgsoftdelete: skip=public.humans */ SELECT * FROM humans",
       "/* pgsoftdelete: skip=public.humans */ SELECT * FROM humans WHERE NOT humans.is_deleted"},
      {"hint for another schema", "/* pgsoftdelete: skip=other.humans */ SELECT * FROM humans", "/* pgsoftdelete: skip=other.humans */ SELECT * FROM humans WHERE NOT humans.is_deleted"},
  };
  for (const auto& c : cases) {
    std::string name = c.name;
    CAPTURE(name);
    auto r = rewrite_slow(c.sql);
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    if (!c.expected) {
      CHECK(r->unchanged);
    } else {
      CAPTURE(r->sql);
      CHECK(normalised(r->sql) == normalised(c.expected));
    }
  }
}

TEST_CASE("hints: the hint comment itself stays in the text") {
  auto r = rewrite_slow("/* pgsoftdelete: skip=aliens */ SELECT * FROM humans, aliens");
  REQUIRE(r);
  CHECK(r->sql == "/* pgsoftdelete: skip=aliens */ SELECT * FROM humans, aliens WHERE NOT humans.is_deleted");
}

TEST_CASE("hints: session hints") {
  Hints session;
  session.skip = *rules::parse_table_set("humans");
  auto r = rewrite_slow("SELECT * FROM humans, aliens", session);
  REQUIRE(r);
  CHECK(normalised(r->sql) == normalised("SELECT * FROM humans, aliens WHERE aliens.deleted_at IS NULL"));
  auto add = rewrite_slow("/* pgsoftdelete: skip=aliens */ SELECT * FROM humans, aliens", session);
  REQUIRE(add);
  CHECK(add->unchanged);
}

TEST_CASE("hints: SET / RESET / DISCARD produce hint settings for the proxy") {
  struct SetCase {
    const char* sql;
    HintSetting::Action action;
    HintKind kind;
    bool local;
    const char* value;
  };
  const SetCase cases[] = {
      {"SET pgsoftdelete.skip = 'humans, aliens'", HintSetting::Action::set, HintKind::skip, false, "aliens,humans"},
      {"SET pgsoftdelete.skip TO humans, aliens", HintSetting::Action::set, HintKind::skip, false, "aliens,humans"},
      {"SET LOCAL pgsoftdelete.only_deleted = '*'", HintSetting::Action::set, HintKind::only_deleted, true, "*"},
      {"SET SESSION pgsoftdelete.hard_delete = ''", HintSetting::Action::set, HintKind::hard_delete, false, ""},
      {"SET pgsoftdelete.skip TO DEFAULT", HintSetting::Action::reset, HintKind::skip, false, ""},
      {"RESET pgsoftdelete.hard_delete", HintSetting::Action::reset, HintKind::hard_delete, false, ""},
      {"RESET ALL", HintSetting::Action::reset_all, HintKind::skip, false, ""},
      {"DISCARD ALL", HintSetting::Action::reset_all, HintKind::skip, false, ""},
  };
  for (const auto& c : cases) {
    std::string sql = c.sql;
    CAPTURE(sql);
    auto r = rewrite_slow(c.sql);
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    CHECK(r->unchanged);
    REQUIRE(r->statements.size() == 1);
    REQUIRE(r->statements[0].hint_setting.has_value());
    const auto& s = *r->statements[0].hint_setting;
    CHECK(s.action == c.action);
    if (c.action != HintSetting::Action::reset_all) CHECK(s.kind == c.kind);
    CHECK(s.local == c.local);
    CHECK(s.value.to_string() == c.value);
  }
  auto other = rewrite_slow("SET search_path = public; DISCARD PLANS");
  REQUIRE(other);
  REQUIRE(other->statements.size() == 2);
  CHECK_FALSE(other->statements[0].hint_setting.has_value());
  CHECK_FALSE(other->statements[1].hint_setting.has_value());
}

TEST_CASE("hints: who may use them (42501)") {
  auto rules = rules_from(R"(
[hints]
skip_users = ["admin"]
hard_delete_users = []
[[table]]
name = "humans"
)");
  rules::Engine engine(rules);
  auto denied = engine.rewrite("/* pgsoftdelete: skip=humans */ SELECT * FROM humans", {}, "app");
  REQUIRE_FALSE(denied);
  CHECK(denied.error().sqlstate == "42501");
  auto allowed = engine.rewrite("/* pgsoftdelete: skip=humans */ SELECT * FROM humans", {}, "admin");
  REQUIRE(allowed);
  CHECK(allowed->unchanged);
  auto set_denied = engine.rewrite("SET pgsoftdelete.only_deleted = 'humans'", {}, "app");
  REQUIRE_FALSE(set_denied);
  CHECK(set_denied.error().sqlstate == "42501");
  auto clear_ok = engine.rewrite("SET pgsoftdelete.skip = ''", {}, "app");
  CHECK(clear_ok);
  auto hard = engine.rewrite("/* pgsoftdelete: hard_delete=humans */ DELETE FROM humans", {}, "admin");
  REQUIRE_FALSE(hard);
  CHECK(hard.error().sqlstate == "42501");
  Hints session;
  session.skip.all = true;
  auto session_denied = engine.rewrite("SELECT * FROM humans", session, "app");
  REQUIRE_FALSE(session_denied);
  CHECK(session_denied.error().sqlstate == "42501");
  // A hint that does not apply to any table read does not need permission.
  auto unrelated = engine.rewrite("SELECT 1", session, "app");
  CHECK(unrelated);
}

}  // namespace pgsoftdelete::test
