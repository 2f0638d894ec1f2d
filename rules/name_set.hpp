// A set of relation names for the fast path: most identifiers of a statement are rejected by their
// length alone, without hashing.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "rules/identifier.hpp"

namespace pgsoftdelete::rules {

class NameSet {
 public:
  void insert(std::string_view name) {
    name = truncate_identifier(name);
    if (name.size() >= 64) long_names_ = true;
    else lengths_ |= std::uint64_t{1} << name.size();
    names_.emplace(name);
  }
  /// `name` as the server reads it (truncated to 63 bytes) is in the set.
  [[nodiscard]] bool contains(std::string_view name) const {
    name = truncate_identifier(name);
    if (name.size() >= 64 ? !long_names_ : !(lengths_ & (std::uint64_t{1} << name.size()))) return false;
    return names_.contains(name);
  }
  [[nodiscard]] bool empty() const { return names_.empty(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_set<std::string, Hash, std::equal_to<>> names_;
  std::uint64_t lengths_ = 0;  ///< bit n set: some name has n bytes (n < 64)
  bool long_names_ = false;
};

}  // namespace pgsoftdelete::rules
