// Hints from the startup packet; see startup_hints.hpp.
#include "startup_hints.hpp"

#include <fmt/format.h>

namespace pgsoftdelete::proxy {

namespace {

constexpr std::string_view prefix = "pgsoftdelete.";

/// Splits libpq's `options` value into arguments: whitespace separates, backslash escapes.
std::vector<std::string> split_options(std::string_view options) {
  std::vector<std::string> args;
  std::string current;
  bool in_arg = false;
  for (std::size_t i = 0; i < options.size(); ++i) {
    const char c = options[i];
    if (c == '\\' && i + 1 < options.size()) {
      current.push_back(options[++i]);
      in_arg = true;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_arg) args.push_back(std::move(current));
      current.clear();
      in_arg = false;
    } else {
      current.push_back(c);
      in_arg = true;
    }
  }
  if (in_arg) args.push_back(std::move(current));
  return args;
}

std::expected<void, parser::Error> set(rules::Hints& hints, std::string_view name, std::string_view value) {
  rules::TableSet* field = nullptr;
  if (name == "skip") field = &hints.skip;
  else if (name == "only_deleted") field = &hints.only_deleted;
  else if (name == "hard_delete") field = &hints.hard_delete;
  else return {};  // not a hint of ours: the server decides what it means
  auto tables = rules::parse_table_set(value);
  if (!tables) return std::unexpected(tables.error());
  *field = std::move(*tables);
  return {};
}

/// Applies a `name=value` setting if it names a pgsoftdelete hint.
std::expected<void, parser::Error> apply_setting(rules::Hints& hints, std::string_view setting) {
  const auto eq = setting.find('=');
  if (eq == std::string_view::npos) return {};
  std::string name(setting.substr(0, eq));
  for (auto& c : name) c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!name.starts_with(prefix)) return {};
  return set(hints, std::string_view(name).substr(prefix.size()), setting.substr(eq + 1));
}

}  // namespace

std::expected<rules::Hints, parser::Error> startup_hints(const codec::StartupPacket& packet) {
  rules::Hints hints;
  for (const auto& [name, value] : packet.parameters) {
    if (name == "options") {
      const auto args = split_options(value);
      for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        std::string_view setting;
        if (arg == "-c" && i + 1 < args.size()) setting = args[++i];
        else if (arg.starts_with("-c")) setting = arg.substr(2);
        else if (arg.starts_with("--")) setting = arg.substr(2);
        if (auto ok = apply_setting(hints, setting); !ok) return std::unexpected(ok.error());
      }
    } else if (name.starts_with(prefix)) {
      if (auto ok = set(hints, std::string_view(name).substr(prefix.size()), value); !ok)
        return std::unexpected(ok.error());
    }
  }
  return hints;
}

std::expected<void, parser::Error> check_hint_users(const rules::Hints& hints, const rules::RuleSet& rules,
                                                    std::string_view user) {
  const auto refuse = [&](std::string_view hint) {
    return std::unexpected(parser::Error{parser::sqlstate::insufficient_privilege,
                                         fmt::format("user \"{}\" may not use the pgsoftdelete.{} hint", user, hint),
                                         0});
  };
  if (!hints.skip.empty() && !rules.skip_users().allows(user)) return refuse("skip");
  if (!hints.only_deleted.empty() && !rules.skip_users().allows(user)) return refuse("only_deleted");
  if (!hints.hard_delete.empty() && !rules.hard_delete_users().allows(user)) return refuse("hard_delete");
  return {};
}

}  // namespace pgsoftdelete::proxy
