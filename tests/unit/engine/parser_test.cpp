// parser/: parse, deparse, scan, split over libpg_query.
#include <doctest/doctest.h>

#include "parser/parse.hpp"
#include "parser/scan.hpp"
#include "parser/split.hpp"

namespace pgsoftdelete::parser {

TEST_CASE("parser: parse and deparse") {
  auto t = parse("select a from b where c = 1");
  REQUIRE(t);
  REQUIRE(t->result.stmts_size() == 1);
  CHECK(t->result.stmts(0).stmt().has_select_stmt());
  auto d = deparse(t->result);
  REQUIRE(d);
  CHECK(*d == "SELECT a FROM b WHERE c = 1");
}

TEST_CASE("parser: syntax error as the server reports it") {
  auto t = parse("SELECT FROM FROM");
  REQUIRE_FALSE(t);
  CHECK(t.error().sqlstate == "42601");
  CHECK(t.error().message == "syntax error at or near \"FROM\"");
  CHECK(t.error().position == 13);
}

TEST_CASE("parser: scan keeps comments and positions") {
  auto toks = scan("SELECT /* c */ x -- d\nFROM t");
  REQUIRE(toks);
  REQUIRE(toks->size() == 6);
  CHECK((*toks)[1].is_comment());
  CHECK((*toks)[1].start == 7);
  CHECK((*toks)[1].end == 14);
  CHECK((*toks)[3].is_comment());
  CHECK((*toks)[4].kind == pg_query::FROM);
}

TEST_CASE("parser: scan gives U&\"…\" and U&'…' tokens their full length") {
  const char* sql = "SELECT U&'\\0061''b', U&\"x\"\"y\" FROM t";
  auto toks = scan(sql);
  REQUIRE(toks);
  REQUIRE(toks->size() == 6);
  CHECK((*toks)[1].kind == pg_query::USCONST);
  CHECK((*toks)[1].end == 19);
  CHECK((*toks)[3].kind == pg_query::UIDENT);
  CHECK((*toks)[3].start == 21);
  CHECK((*toks)[3].end == 29);
}

TEST_CASE("parser: split statements") {
  auto s = split("SELECT 1; SELECT ';'; SELECT 3");
  REQUIRE(s);
  REQUIRE(s->size() == 3);
  CHECK((*s)[0].location == 0);
  CHECK((*s)[0].length == 8);
}

}  // namespace pgsoftdelete::parser

#include "parser/json_tree.hpp"

namespace pgsoftdelete::parser {

TEST_CASE("parser: JSON tree of a statement") {
  auto t = parse_json("SELECT * FROM \"we\"\"ird\\\", \"ünï\" WHERE x = 'a\tb'");
  REQUIRE(t);
  auto stmts = t->get(t->root(), "stmts");
  REQUIRE(t->size(stmts) == 1);
  auto select = t->get(t->get(t->node(stmts).first, "stmt"), "SelectStmt");
  REQUIRE(select != 0);
  auto from = t->get(select, "fromClause");
  REQUIRE(t->size(from) == 2);
  auto first = t->get(t->node(from).first, "RangeVar");
  CHECK(t->string(first, "relname") == "we\"ird\\");
  CHECK(t->number(first, "location") == 14);
  auto second = t->get(t->node(t->node(from).first).next, "RangeVar");
  CHECK(t->string(second, "relname") == "ünï");
  CHECK(t->truth(first, "inh"));
  CHECK(t->number(first, "missing", -7) == -7);
}

TEST_CASE("parser: JSON reader decodes escapes and refuses garbage") {
  JsonTree t;
  REQUIRE(t.parse(R"({"a": "x\"y\\z\n\u00e9\ud83d\ude00", "b": [1, -2, true, false, null], "c": {}})"));
  CHECK(t.string(t.root(), "a") == "x\"y\\z\n\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(t.size(t.get(t.root(), "b")) == 5);
  CHECK(t.size(t.get(t.root(), "c")) == 0);
  for (const char* bad : {"", "{", "{\"a\" 1}", "[1,]", "{\"a\": tru}", "\"unterminated", "[1] 2"}) {
    JsonTree g;
    CHECK_FALSE(g.parse(bad));
  }
}

TEST_CASE("parser: JSON parse errors are PostgreSQL's") {
  auto t = parse_json("SELECT * FRO humans");
  REQUIRE_FALSE(t);
  CHECK(t.error().sqlstate == "42601");
  CHECK(t.error().position == 10);
}

}  // namespace pgsoftdelete::parser
