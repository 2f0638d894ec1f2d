// RAII wrapper over pg_query_split_with_parser.
#include "parser/split.hpp"

#include <pg_query.h>

#include <memory>
#include <string>

namespace pgsoftdelete::parser {
namespace {
struct SplitResultDeleter {
  void operator()(PgQuerySplitResult* r) const {
    pg_query_free_split_result(*r);
    delete r;
  }
};
}  // namespace

std::expected<std::vector<StatementRange>, Error> split(std::string_view sql) {
  const std::string text(sql);
  std::unique_ptr<PgQuerySplitResult, SplitResultDeleter> r(
      new PgQuerySplitResult(pg_query_split_with_parser(text.c_str())));
  if (r->error) return std::unexpected(syntax_error(r->error->message ? r->error->message : "syntax error",
                                                    r->error->cursorpos));
  std::vector<StatementRange> out;
  for (int i = 0; i < r->n_stmts; ++i) out.push_back({r->stmts[i]->stmt_location, r->stmts[i]->stmt_len});
  return out;
}

}  // namespace pgsoftdelete::parser
