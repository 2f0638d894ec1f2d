// Metrics helpers; see metrics.hpp.
#include "ops/metrics.hpp"

namespace pgsoftdelete::proxy {

void Metrics::count_refusal(std::string_view sqlstate) {
  std::size_t i = 0;
  while (i + 1 < refusal_codes.size() && refusal_codes[i] != sqlstate) ++i;
  add(refusals[i]);
}

std::string_view to_string(SessionState s) {
  switch (s) {
    case SessionState::startup: return "startup";
    case SessionState::idle: return "idle";
    case SessionState::in_transaction: return "in_transaction";
  }
  return "unknown";
}

}  // namespace pgsoftdelete::proxy
