// Statement facts from the parse tree; see statement_facts.hpp.
#include "statement_facts.hpp"

#include "parser/parse.hpp"

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
        default: break;
      }
    } else if (stmt.has_execute_stmt()) {
      f.kind = StatementFacts::Kind::execute;
      f.name = stmt.execute_stmt().name();
    } else if (stmt.has_deallocate_stmt()) {
      f.name = stmt.deallocate_stmt().name();
      f.kind = f.name.empty() ? StatementFacts::Kind::deallocate_all : StatementFacts::Kind::deallocate;
    }
    facts.push_back(std::move(f));
  }
  return facts;
}

bool only_sets(std::string_view sql, std::string_view name) {
  auto tree = parser::parse(sql);
  if (!tree || tree->result.stmts_size() != 1) return false;
  const auto& stmt = tree->result.stmts(0).stmt();
  return stmt.has_variable_set_stmt() && stmt.variable_set_stmt().name() == name;
}

}  // namespace pgsoftdelete::proxy
