// RAII wrapper over pg_query_scan.
#include "parser/scan.hpp"

#include <pg_query.h>

#include <memory>
#include <string>

namespace pgsoftdelete::parser {
namespace {
// pg_query_scan reports U&"…" and U&'…' tokens with a wrong end (only the "U"); find the closing quote.
int unicode_token_end(std::string_view sql, int start) {
  auto i = static_cast<std::size_t>(start) + 2;  // past U&
  if (i >= sql.size()) return start;
  char quote = sql[i++];
  while (i < sql.size()) {
    if (sql[i] == quote) {
      if (i + 1 < sql.size() && sql[i + 1] == quote) {
        i += 2;
        continue;
      }
      return static_cast<int>(i + 1);
    }
    ++i;
  }
  return static_cast<int>(sql.size());
}

struct ScanResultDeleter {
  void operator()(PgQueryScanResult* r) const {
    pg_query_free_scan_result(*r);
    delete r;
  }
};
}  // namespace

std::expected<std::vector<Token>, Error> scan(std::string_view sql) {
  const std::string text(sql);
  std::unique_ptr<PgQueryScanResult, ScanResultDeleter> r(new PgQueryScanResult(pg_query_scan(text.c_str())));
  if (r->error) return std::unexpected(syntax_error(r->error->message ? r->error->message : "syntax error",
                                                    r->error->cursorpos));
  pg_query::ScanResult decoded;
  if (!decoded.ParseFromArray(r->pbuf.data, static_cast<int>(r->pbuf.len)))
    return std::unexpected(internal_error("cannot decode libpg_query's scan result"));
  std::vector<Token> tokens;
  tokens.reserve(static_cast<std::size_t>(decoded.tokens_size()));
  for (const auto& t : decoded.tokens()) {
    int end = t.end();
    if (t.token() == pg_query::UIDENT || t.token() == pg_query::USCONST) end = unicode_token_end(sql, t.start());
    tokens.push_back(Token{t.start(), end, t.token(), t.keyword_kind()});
  }
  return tokens;
}

}  // namespace pgsoftdelete::parser
