// Hints from the startup packet; see startup_hints.hpp.
#include "session/startup_hints.hpp"

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

/// Setting names as the server reads them: case folded, and (in `options`) dashes made
/// underscores, as PostgreSQL's ParseLongOption does.
std::string setting_name(std::string_view name, bool from_options) {
  std::string folded(name);
  for (auto& c : folded)
    c = from_options && c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return folded;
}

bool is_hint_name(std::string_view raw_name, bool from_options) {
  const std::string name = setting_name(raw_name, from_options);
  return name == "pgsoftdelete.skip" || name == "pgsoftdelete.only_deleted" || name == "pgsoftdelete.hard_delete";
}

/// Joins arguments back into an `options` value, escaping what split_options splits on.
std::string join_options(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& arg : args) {
    if (!out.empty()) out += ' ';
    for (char c : arg) {
      if (c == '\\' || c == ' ' || c == '\t' || c == '\n' || c == '\r') out += '\\';
      out += c;
    }
  }
  return out;
}

/// The setting an `options` argument makes at `i` ("-c name=value", "-cname=value", "--name=value"),
/// and how many arguments it takes; empty when it makes none.
std::pair<std::string_view, std::size_t> option_setting(const std::vector<std::string>& args, std::size_t i) {
  std::string_view arg = args[i];
  if (arg == "-c" && i + 1 < args.size()) return {args[i + 1], 2};
  if (arg.starts_with("-c")) return {arg.substr(2), 1};
  if (arg.starts_with("--")) return {arg.substr(2), 1};
  return {{}, 1};
}

/// Collects the hints, refusing one set twice: the server keeps the last `-c` of `options`, and
/// a startup key over any of them, an order a reader here could easily get wrong.
class HintCollector {
 public:
  std::expected<void, parser::Error> set(std::string_view raw_name, std::string_view value, bool from_options) {
    const std::string name = setting_name(raw_name, from_options);
    if (!name.starts_with(prefix)) return {};
    const std::string_view hint = std::string_view(name).substr(prefix.size());
    rules::TableSet* field = nullptr;
    if (hint == "skip") field = &hints_.skip;
    else if (hint == "only_deleted") field = &hints_.only_deleted;
    else if (hint == "hard_delete") field = &hints_.hard_delete;
    else return {};  // not a hint of ours: the server decides what it means
    for (const auto& s : seen_)
      if (s == name)
        return std::unexpected(parser::Error{"08P01", fmt::format("startup packet sets \"{}\" more than once", name), 0});
    seen_.push_back(name);
    auto tables = rules::parse_table_set(value);
    if (!tables) return std::unexpected(tables.error());
    *field = std::move(*tables);
    return {};
  }
  rules::Hints take() { return std::move(hints_); }

 private:
  rules::Hints hints_;
  std::vector<std::string> seen_;
};

}  // namespace

std::expected<rules::Hints, parser::Error> startup_hints(const codec::StartupPacket& packet) {
  HintCollector hints;
  for (const auto& [name, value] : packet.parameters) {
    if (name == "options") {
      const auto args = split_options(value);
      for (std::size_t i = 0; i < args.size();) {
        const auto [setting, taken] = option_setting(args, i);
        i += taken;
        const auto eq = setting.find('=');
        if (eq == std::string_view::npos) continue;
        if (auto ok = hints.set(setting.substr(0, eq), setting.substr(eq + 1), true); !ok)
          return std::unexpected(ok.error());
      }
    } else if (auto ok = hints.set(name, value, false); !ok) {
      return std::unexpected(ok.error());
    }
  }
  return hints.take();
}

std::string without_startup_hints(const codec::StartupPacket& packet) {
  std::vector<std::pair<std::string, std::string>> kept;
  for (const auto& [name, value] : packet.parameters) {
    if (name == "options") {
      const auto args = split_options(value);
      std::vector<std::string> rest;
      for (std::size_t i = 0; i < args.size();) {
        const auto [setting, taken] = option_setting(args, i);
        const bool hint = is_hint_name(setting.substr(0, setting.find('=')), true);
        for (std::size_t k = 0; k < taken; ++k)
          if (!hint) rest.push_back(args[i + k]);
        i += taken;
      }
      if (!rest.empty()) kept.emplace_back(name, join_options(rest));
    } else if (!is_hint_name(name, false)) {
      kept.emplace_back(name, value);
    }
  }
  return codec::encode_startup_message(kept, static_cast<std::uint32_t>(packet.protocol));
}

bool wants_replication(const codec::StartupPacket& packet) {
  const auto value = packet.parameter("replication");
  if (!value) return false;
  const std::string v = setting_name(*value, false);
  return !(v == "false" || v == "off" || v == "no" || v == "0");
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
