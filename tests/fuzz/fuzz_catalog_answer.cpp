// The answer to the proxy's catalog query comes from the server, as DataRows: never trusted. The input
// is a request byte (which result sets were asked), then DataRow bodies and result-set ends separated by
// marker bytes. ResultCollector and read_catalog_answer must never crash and must either fail or give a
// catalog whose every relation, key and schema came from some row; parse_json_strings must round trip
// what it accepts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "catalog/catalog_query.hpp"
#include "fuzz_check.hpp"
#include "rules/resolved_rules.hpp"
#include "rules/rule_set.hpp"

using namespace pgsoftdelete;

namespace {

/// array_to_json's form of a text array.
std::string json_text(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "]";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return -1;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const proxy::CatalogRequest request{.catalog = (data[0] & 1) != 0, .search_path = (data[0] & 2) != 0};
  proxy::ResultCollector collected;
  // Pieces separated by 0xFF: a piece starting with 'C' ends a result set, 'E' is an error, else a DataRow body.
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('\xFF', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view piece = input.substr(start, end - start);
    if (!piece.empty() && piece[0] == 'C') collected.on_command_complete("SELECT 1");
    else if (!piece.empty() && piece[0] == 'E') collected.on_error(std::string(piece.substr(1)));
    else collected.on_data_row(piece);
    start = end + 1;
  }
  auto answer = proxy::read_catalog_answer(request, collected);
  if (answer && answer->catalog) {
    // Whatever the server said, resolving it against rules must hold.
    static const auto rules = std::make_shared<const rules::RuleSet>(
        std::vector<rules::TableRule>{rules::TableRule{.schema = "", .name = "humans", .column = "is_deleted"}},
        rules::Policy::reject, rules::Policy::reject, rules::UserList{}, rules::UserList{}, 1);
    rules::ResolvedRules resolved(rules, std::make_shared<const rules::Catalog>(std::move(*answer->catalog)));
    for (const auto& r : resolved.catalog().relations) {
      (void)resolved.delete_hazard(r.oid);
      (void)resolved.truncate_hazard(r.oid);
      (void)resolved.update_hazard(r.oid, {});
      (void)resolved.cascade_plan(r.oid, true);
      (void)resolved.resolve(r.schema, r.name, rules::SearchPath{});
    }
  }
  if (auto items = proxy::parse_json_strings(input)) {
    auto again = proxy::parse_json_strings(json_text(*items));
    FUZZ_CHECK(again && *again == *items);
  }
  return 0;
}
