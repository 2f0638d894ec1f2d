// Parenthesis nesting of a statement string's tokens, for the splices that must find where a clause ends:
// computed once per string, and only when a rewrite needs it.
#pragma once

#include <vector>

#include "rules/sql_tokens.hpp"

namespace pgsoftdelete::rules {

class TokenNesting {
 public:
  explicit TokenNesting(const std::vector<SqlToken>& tokens) : tokens_(tokens) {}

  /// Parenthesis/bracket depth at token `i`: an opening token has the depth outside it, a closing one
  /// the depth after it (so a pair and what stands beside it share a depth).
  int depth(int i) {
    ensure();
    return depth_[static_cast<std::size_t>(i)];
  }
  /// The innermost opening token enclosing token `i` (-1 at the top).
  int enclosing(int i) {
    ensure();
    return open_[static_cast<std::size_t>(i)];
  }

 private:
  void ensure() {
    if (!depth_.empty() || tokens_.empty()) return;
    depth_.resize(tokens_.size());
    open_.resize(tokens_.size());
    std::vector<int> stack;
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
      const Tok k = tokens_[i].kind;
      if ((k == Tok::rparen || k == Tok::rbracket) && !stack.empty()) stack.pop_back();
      depth_[i] = static_cast<int>(stack.size());
      open_[i] = stack.empty() ? -1 : stack.back();
      if (k == Tok::lparen || k == Tok::lbracket) stack.push_back(static_cast<int>(i));
    }
  }

  const std::vector<SqlToken>& tokens_;
  std::vector<int> depth_;
  std::vector<int> open_;
};

}  // namespace pgsoftdelete::rules
