// The fast path's lexer: it may send harmless statements down the slow path, never the reverse.
#include <doctest/doctest.h>

#include <string>

#include "rules/sql_lexer.hpp"
#include "test_support.hpp"

namespace pgsoftdelete::test {

namespace {
rules::LexResult lex(std::string_view sql) {
  rules::LexResult r;
  rules::lex_sql(sql, *standard_rules(), r);
  return r;
}
}  // namespace

TEST_CASE("lexer: statements that may touch a rule table take the slow path") {
  const char* slow[] = {
      "SELECT * FROM humans",
      "SELECT * FROM HUMANS",
      "SELECT * FROM HuMaNs",
      "SELECT * FROM \"humans\"",
      "SELECT * FROM public.humans",
      "SELECT * FROM \"Robots\"",
      "SELECT * FROM U&\"hum\\0061ns\"",
      "SELECT * FROM u&\"x\"",
      "SELECT 'a\\' FROM humans --'",
      "SELECT /* /* */ */ * FROM humans",
      "SELECT 1 -- x\nFROM humans",
      "SELECT 1 -- x\rFROM humans",
      "SELECT $a$ x $b$ FROM humans",
      "SELECT 1humans",
      "SELECT 0x1F",
      "SELECT 1 FROM planets /* unterminated",
      "SELECT 'unterminated",
      "SELECT \"unterminated",
      "SET pgsoftdelete.skip = 'humans'",
      "SET \"pgsoftdelete\".skip = 'x'",
      "RESET PGSOFTDELETE.skip",
      "/* PgSoftDelete: skip=* */ SELECT 1",
      "-- pgsoftdelete: skip=*\nSELECT 1",
      "SELECT N'x'",
      "SELECT 'a' 'b'",
      "SELECT $1humans",
      "SELECT 1 FROM t WHERE a = $",
      "DO $$BEGIN DELETE FROM humans; END$$",
      "RESET ALL",
      "discard all",
  };
  for (const char* sql : slow) {
    std::string s = sql;
    CAPTURE(s);
    CHECK_FALSE(lex(sql).certainly_untouched());
  }
}

TEST_CASE("lexer: statements that certainly do not touch a rule table take the fast path") {
  const char* fast[] = {
      "SELECT 1",
      "SELECT * FROM planets WHERE name = 'humans'",
      "SELECT E'\\' FROM humans --' FROM planets",
      "SELECT 'it''s humans' FROM planets",
      "SELECT $$ humans $$, $a$ humans $$ aliens $a$",
      "SELECT /* humans /* nested humans */ still comment humans */ 1",
      "SELECT 1 -- FROM humans",
      "SELECT * FROM \"Humans\"",
      "SELECT * FROM robots",
      "SELECT * FROM Robots",
      "SELECT humans$x FROM planets",
      "SELECT 1 +/* humans */ 2",
      "SELECT 1.5e3, .5, 1e-3, 42::int, a::text FROM t WHERE x >= $1 AND y <> $2",
      "SELECT B'101', X'FF', E'\\n' FROM t",
      "SELECT pgsoftdelete_log FROM t",
      "INSERT INTO planets VALUES (1, 'humans'), (2, $q$aliens$q$)",
      "SELECT \"a\"\"humans\" FROM t",
  };
  for (const char* sql : fast) {
    std::string s = sql;
    CAPTURE(s);
    auto r = lex(sql);
    CHECK(r.certainly_untouched());
  }
}

TEST_CASE("lexer: atoms and literal kinds") {
  auto r = lex("SELECT a, 'x''y', 12, 1.5, $$z$$, B'1' FROM t -- c\n WHERE b = E'q'");
  REQUIRE(r.atoms.size() == 18);
  CHECK(r.atoms[3].kind == rules::AtomKind::string_literal);
  CHECK(r.atoms[5].kind == rules::AtomKind::integer);
  CHECK(r.atoms[7].kind == rules::AtomKind::numeric);
  CHECK(r.atoms[9].kind == rules::AtomKind::string_literal);
  CHECK(r.atoms[11].kind == rules::AtomKind::bit_literal);
  CHECK(r.atoms[17].kind == rules::AtomKind::string_literal);
  CHECK(r.atoms[17].start == 62);
}

}  // namespace pgsoftdelete::test
