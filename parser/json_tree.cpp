// JsonTree: a small recursive-descent JSON reader for pg_query_parse's output, and parse_json().
#include "parser/json_tree.hpp"

#include <pg_query.h>

#include <memory>

namespace pgsoftdelete::parser {
namespace {

struct ParseResultDeleter {
  void operator()(PgQueryParseResult* r) const {
    pg_query_free_parse_result(*r);
    delete r;
  }
};

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::uint32_t hex4(std::string_view s, std::size_t i) {
  std::uint32_t v = 0;
  for (std::size_t k = 0; k < 4 && i + k < s.size(); ++k) {
    char c = s[i + k];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
  }
  return v;
}

}  // namespace

void JsonTree::skip_space() {
  while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' || text_[pos_] == '\r'))
    ++pos_;
}

// Returns the new node's index, or 0 on malformed input.
std::uint32_t JsonTree::value() {
  skip_space();
  if (pos_ >= text_.size() || ++depth_ > 10000) return 0;
  auto index = static_cast<std::uint32_t>(nodes_.size());
  nodes_.emplace_back();
  char c = text_[pos_];
  auto read_string = [&](std::string_view& out, bool& escaped) -> bool {
    ++pos_;  // opening quote
    std::size_t start = pos_;
    escaped = false;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\\') {
        escaped = true;
        ++pos_;
      }
      ++pos_;
    }
    if (pos_ >= text_.size()) return false;
    out = std::string_view(text_).substr(start, pos_ - start);
    ++pos_;  // closing quote
    return true;
  };
  if (c == '{' || c == '[') {
    bool object = c == '{';
    nodes_[index].kind = object ? JsonNode::Kind::object : JsonNode::Kind::array;
    ++pos_;
    std::uint32_t last = 0;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == (object ? '}' : ']')) {
      ++pos_;
      --depth_;
      return index;
    }
    for (;;) {
      std::string_view key;
      if (object) {
        skip_space();
        bool esc = false;
        if (pos_ >= text_.size() || text_[pos_] != '"' || !read_string(key, esc)) return 0;
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != ':') return 0;
        ++pos_;
      }
      std::uint32_t child = value();
      if (child == 0) return 0;
      nodes_[child].key = key;
      if (last == 0) nodes_[index].first = child;
      else nodes_[last].next = child;
      last = child;
      skip_space();
      if (pos_ >= text_.size()) return 0;
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == (object ? '}' : ']')) {
        ++pos_;
        break;
      }
      return 0;
    }
  } else if (c == '"') {
    nodes_[index].kind = JsonNode::Kind::string;
    std::string_view raw;
    bool esc = false;
    if (!read_string(raw, esc)) return 0;
    nodes_[index].raw = raw;
    nodes_[index].escaped = esc;
  } else if (c == 't' || c == 'f' || c == 'n') {
    std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
    if (std::string_view(text_).substr(pos_, word.size()) != word) return 0;
    pos_ += word.size();
    nodes_[index].kind = c == 'n' ? JsonNode::Kind::null : JsonNode::Kind::boolean;
    nodes_[index].truth = c == 't';
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    bool negative = c == '-';
    if (negative) ++pos_;
    std::int64_t v = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') v = v * 10 + (text_[pos_++] - '0');
    // Fractions/exponents do not occur in pg_query's trees (floats are strings); skip them if they do.
    while (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E' ||
                                   text_[pos_] == '+' || text_[pos_] == '-' || (text_[pos_] >= '0' && text_[pos_] <= '9')))
      ++pos_;
    nodes_[index].kind = JsonNode::Kind::number;
    nodes_[index].number = negative ? -v : v;
  } else {
    return 0;
  }
  --depth_;
  return index;
}

bool JsonTree::parse(std::string json) {
  text_ = std::move(json);
  pos_ = 0;
  depth_ = 0;
  nodes_.clear();
  nodes_.reserve(text_.size() / 12 + 4);
  nodes_.emplace_back();  // sentinel
  if (value() == 0) return false;
  skip_space();
  return pos_ == text_.size();
}

std::uint32_t JsonTree::get(std::uint32_t obj, std::string_view key) const {
  if (obj == 0 || nodes_[obj].kind != JsonNode::Kind::object) return 0;
  for (auto c = nodes_[obj].first; c != 0; c = nodes_[c].next)
    if (nodes_[c].key == key) return c;
  return 0;
}

std::string JsonTree::string(std::uint32_t i) const {
  if (i == 0 || nodes_[i].kind != JsonNode::Kind::string) return {};
  const auto raw = nodes_[i].raw;
  if (!nodes_[i].escaped) return std::string(raw);
  std::string out;
  out.reserve(raw.size());
  for (std::size_t k = 0; k < raw.size(); ++k) {
    char ch = raw[k];
    if (ch != '\\' || k + 1 >= raw.size()) {
      out.push_back(ch);
      continue;
    }
    char e = raw[++k];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        std::uint32_t cp = hex4(raw, k + 1);
        k += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && k + 6 < raw.size() && raw[k + 1] == '\\' && raw[k + 2] == 'u') {
          std::uint32_t low = hex4(raw, k + 3);
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          k += 6;
        }
        append_utf8(out, cp);
        break;
      }
      default: out.push_back(e);  // \" \\ \/
    }
  }
  return out;
}

std::int64_t JsonTree::number(std::uint32_t obj, std::string_view key, std::int64_t fallback) const {
  auto i = get(obj, key);
  return i != 0 && nodes_[i].kind == JsonNode::Kind::number ? nodes_[i].number : fallback;
}

bool JsonTree::truth(std::uint32_t obj, std::string_view key) const {
  auto i = get(obj, key);
  return i != 0 && nodes_[i].kind == JsonNode::Kind::boolean && nodes_[i].truth;
}

std::size_t JsonTree::size(std::uint32_t i) const {
  std::size_t n = 0;
  if (i == 0) return 0;
  for (auto c = nodes_[i].first; c != 0; c = nodes_[c].next) ++n;
  return n;
}

std::expected<JsonTree, Error> parse_json(std::string_view sql) {
  const std::string text(sql);
  std::unique_ptr<PgQueryParseResult, ParseResultDeleter> r(new PgQueryParseResult(pg_query_parse(text.c_str())));
  if (r->error) return std::unexpected(syntax_error(r->error->message ? r->error->message : "syntax error", r->error->cursorpos));
  JsonTree tree;
  if (!tree.parse(std::string(r->parse_tree)))
    return std::unexpected(internal_error("cannot read libpg_query's JSON parse tree"));
  return tree;
}

}  // namespace pgsoftdelete::parser
