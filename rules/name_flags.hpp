// Relation names for the fast path, each with flags (e.g. "related to a rule table", "in the
// catalog"): identifiers are rejected by their length alone where no name with a flag has it,
// and looked up once otherwise.
#pragma once

#include <bitset>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "rules/identifier.hpp"

namespace pgsoftdelete::rules {

class NameFlags {
 public:
  static constexpr std::size_t flag_count = 2;

  void add(std::string_view name, unsigned flag) {
    name = truncate_identifier(name);
    filter_[flag].set(slot(name));
    names_[std::string(name)] |= 1u << flag;
  }
  /// False when no name with `flag` can be `name` (its length and first and last bytes rule it
  /// out): then no lookup is needed. Most keywords and column names stop here.
  [[nodiscard]] bool may_have(std::string_view name, unsigned flag) const {
    return filter_[flag].test(slot(truncate_identifier(name)));
  }
  /// The flags of `name` as the server reads it (truncated to 63 bytes); 0 when absent.
  [[nodiscard]] unsigned flags(std::string_view name) const {
    auto it = names_.find(truncate_identifier(name));
    return it == names_.end() ? 0 : it->second;
  }

 private:
  static std::size_t slot(std::string_view name) {
    if (name.empty()) return 0;
    const auto first = static_cast<unsigned char>(name.front()), last = static_cast<unsigned char>(name.back());
    return (name.size() * 977u + first * 131u + last * 7u) % filter_bits;
  }
  static constexpr std::size_t filter_bits = 8192;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, unsigned, Hash, std::equal_to<>> names_;
  std::bitset<filter_bits> filter_[flag_count];
};

}  // namespace pgsoftdelete::rules
