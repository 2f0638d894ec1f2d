// Loading every setting at once; see settings.hpp.
#include "ops/settings.hpp"

#include <fmt/format.h>

#include "rules/load_rules.hpp"

namespace pgsoftdelete::proxy {

std::expected<Settings, std::string> load_settings(const Flags& flags) {
  Settings s;
  if (flags.config_file) {
    auto loaded = load_config(*flags.config_file);
    if (!loaded) return std::unexpected(loaded.error().to_string());
    s.config = std::move(*loaded);
  }
  if (flags.listen) {
    auto e = parse_endpoints(*flags.listen, 6432);
    if (!e) return std::unexpected("--listen: " + e.error());
    s.config.listen = std::move(*e);
  }
  if (flags.upstream) {  // several hosts comma-separated, as in libpq's host list
    auto e = parse_endpoints(*flags.upstream, 5432);
    if (!e) return std::unexpected("--upstream: " + e.error());
    s.config.upstream = std::move(*e);
  }
  if (flags.rules) s.config.rules = *flags.rules;
  if (flags.mode) {
    auto m = parse_mode(*flags.mode);
    if (!m) return std::unexpected("--mode: " + m.error());
    s.config.mode = *m;
  }
  if (flags.io_threads) s.config.io_threads = *flags.io_threads;
  if (flags.log_level) s.config.log_level = *flags.log_level;

  if (auto ok = validate(s.config); !ok) return std::unexpected(ok.error().to_string());
  auto tls = make_tls_contexts(s.config);
  if (!tls) return std::unexpected(tls.error());
  s.tls = std::move(*tls);

  auto runtime = std::make_shared<Runtime>();
  runtime->mode = s.config.mode;
  if (s.config.rules) {
    auto rules = rules::load_rules(*s.config.rules);
    if (!rules) {
      const auto& e = rules.error();
      return std::unexpected(e.line > 0 ? fmt::format("{}:{}: {}", e.file, e.line, e.message)
                                        : fmt::format("{}: {}", e.file, e.message));
    }
    runtime->engine = std::make_shared<const rules::Engine>(std::move(*rules));
  }
  s.runtime = std::move(runtime);
  return s;
}

}  // namespace pgsoftdelete::proxy
