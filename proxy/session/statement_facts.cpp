// Statement facts from the parse tree; see statement_facts.hpp.
#include "session/statement_facts.hpp"

#include "parser/parse.hpp"

#include <cctype>
#include <string>

namespace pgsoftdelete::proxy {

std::vector<StatementFacts> statement_facts(std::string_view sql) {
  std::vector<StatementFacts> facts;
  auto tree = parser::parse(sql);
  if (!tree) return facts;
  for (const auto& raw : tree->result.stmts()) {
    StatementFacts f;
    const auto& stmt = raw.stmt();
    if (stmt.has_transaction_stmt()) {
      const auto& t = stmt.transaction_stmt();
      f.name = t.savepoint_name();
      switch (t.kind()) {
        case pg_query::TRANS_STMT_SAVEPOINT: f.kind = StatementFacts::Kind::savepoint; break;
        case pg_query::TRANS_STMT_RELEASE: f.kind = StatementFacts::Kind::release; break;
        case pg_query::TRANS_STMT_ROLLBACK_TO: f.kind = StatementFacts::Kind::rollback_to; break;
        case pg_query::TRANS_STMT_COMMIT:
        case pg_query::TRANS_STMT_PREPARE: f.kind = StatementFacts::Kind::commit; break;
        case pg_query::TRANS_STMT_ROLLBACK: f.kind = StatementFacts::Kind::rollback; break;
        default: break;
      }
    } else if (stmt.has_execute_stmt()) {
      f.kind = StatementFacts::Kind::execute;
      f.name = stmt.execute_stmt().name();
    } else if (stmt.has_explain_stmt() && stmt.explain_stmt().query().has_execute_stmt()) {
      // EXPLAIN [ANALYZE] EXECUTE runs the statement too.
      f.kind = StatementFacts::Kind::execute;
      f.name = stmt.explain_stmt().query().execute_stmt().name();
    } else if (stmt.has_create_table_as_stmt() && stmt.create_table_as_stmt().query().has_execute_stmt()) {
      f.kind = StatementFacts::Kind::execute;  // CREATE TABLE … AS EXECUTE
      f.name = stmt.create_table_as_stmt().query().execute_stmt().name();
    } else if (stmt.has_prepare_stmt()) {
      f.kind = StatementFacts::Kind::prepare;
      f.name = stmt.prepare_stmt().name();
    } else if (stmt.has_deallocate_stmt()) {
      f.name = stmt.deallocate_stmt().name();
      f.kind = f.name.empty() ? StatementFacts::Kind::deallocate_all : StatementFacts::Kind::deallocate;
    }
    facts.push_back(std::move(f));
  }
  return facts;
}

namespace {

/// `word` (lower case) at byte `start` of `sql`, in any case.
bool matches_at(std::string_view sql, std::size_t start, std::string_view word) {
  if (start > sql.size() || sql.size() - start < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(sql[start + i])) != word[i]) return false;
  return true;
}

}  // namespace

bool is_reserved_name(std::string_view name) { return name.starts_with(reserved_prefix); }

bool may_use_reserved_name(std::string_view sql) {
  // The prefix ends with an underscore: look before each one (a quoted or Unicode-escaped name
  // such as U&"\0070gsd_1" is missed; the proxy's names are never spelled that way by accident).
  const std::size_t stem = reserved_prefix.size() - 1;
  for (auto at = sql.find('_'); at != std::string_view::npos; at = sql.find('_', at + 1))
    if (at >= stem && matches_at(sql, at - stem, reserved_prefix)) return true;
  return false;
}

bool may_change_lexing(std::string_view sql) {
  // Each name has an underscore: look around each one, case-insensitively.
  for (auto at = sql.find('_'); at != std::string_view::npos; at = sql.find('_', at + 1)) {
    if (matches_at(sql, at, "_encoding") || matches_at(sql, at, "_conforming") ||
        (at >= 3 && matches_at(sql, at - 3, "set_config")))
      return true;
  }
  return false;
}

bool may_be_session_control(std::string_view sql) {
  constexpr std::string_view words[] = {"commit", "rollback", "abort", "end", "savepoint", "release",
                                        "prepare", "execute", "deallocate", "begin", "start"};
  std::string lower(sql);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto w : words)
    if (lower.find(w) != std::string::npos) return true;
  return false;
}

bool only_sets(std::string_view sql, std::string_view name) {
  auto tree = parser::parse(sql);
  if (!tree || tree->result.stmts_size() != 1) return false;
  const auto& stmt = tree->result.stmts(0).stmt();
  return stmt.has_variable_set_stmt() && stmt.variable_set_stmt().name() == name;
}

bool ascii_unsafe_encoding(std::string_view e) {
  for (std::string_view unsafe : {"SJIS", "SHIFT_JIS_2004", "BIG5", "GBK", "UHC", "GB18030", "JOHAB"})
    if (e == unsafe) return true;
  return false;
}

bool may_execute(std::string_view sql) {
  for (auto at = sql.find_first_of("eE"); at != std::string_view::npos; at = sql.find_first_of("eE", at + 1))
    if (matches_at(sql, at, "execute")) return true;
  return false;
}

}  // namespace pgsoftdelete::proxy
