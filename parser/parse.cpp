// RAII wrappers over pg_query_parse_protobuf / pg_query_deparse_protobuf results.
#include "parser/parse.hpp"

#include <pg_query.h>

#include <memory>

namespace pgsoftdelete::parser {
namespace {

struct ParseResultDeleter {
  void operator()(PgQueryProtobufParseResult* r) const {
    pg_query_free_protobuf_parse_result(*r);
    delete r;
  }
};
struct DeparseResultDeleter {
  void operator()(PgQueryDeparseResult* r) const {
    pg_query_free_deparse_result(*r);
    delete r;
  }
};

Error from_pg_error(const PgQueryError& e) {
  // pg_query reports syntax errors exactly as the server's parser would (same message, same cursor).
  return syntax_error(e.message ? e.message : "syntax error", e.cursorpos);
}

}  // namespace

std::expected<Tree, Error> parse(std::string_view sql) {
  const std::string text(sql);  // pg_query wants a NUL-terminated string
  std::unique_ptr<PgQueryProtobufParseResult, ParseResultDeleter> r(
      new PgQueryProtobufParseResult(pg_query_parse_protobuf(text.c_str())));
  if (r->error) return std::unexpected(from_pg_error(*r->error));
  Tree tree;
  if (!tree.result.ParseFromArray(r->parse_tree.data, static_cast<int>(r->parse_tree.len)))
    return std::unexpected(internal_error("cannot decode libpg_query's protobuf parse tree"));
  return tree;
}

std::expected<std::string, Error> deparse(const pg_query::ParseResult& tree) {
  std::string bytes;
  if (!tree.SerializeToString(&bytes)) return std::unexpected(internal_error("cannot encode parse tree"));
  PgQueryProtobuf pb{bytes.size(), bytes.data()};
  std::unique_ptr<PgQueryDeparseResult, DeparseResultDeleter> r(
      new PgQueryDeparseResult(pg_query_deparse_protobuf(pb)));
  if (r->error) return std::unexpected(internal_error(r->error->message ? r->error->message : "deparse failed"));
  return std::string(r->query);
}

std::expected<std::string, Error> normalise(std::string_view sql) {
  auto tree = parse(sql);
  if (!tree) return std::unexpected(tree.error());
  return deparse(tree->result);
}

}  // namespace pgsoftdelete::parser
