// Shorthand constructors for parser::Error.
#include "parser/error.hpp"

#include <utility>

namespace pgsoftdelete::parser {

Error syntax_error(std::string message, int position) {
  return Error{sqlstate::syntax_error, std::move(message), position};
}

Error not_supported(std::string message) {
  return Error{sqlstate::feature_not_supported, std::move(message), 0};
}

Error internal_error(std::string message) {
  return Error{sqlstate::internal_error, std::move(message), 0};
}

}  // namespace pgsoftdelete::parser
