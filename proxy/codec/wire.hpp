// Big-endian integers and NUL-terminated strings as the protocol lays them out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgsoftdelete::proxy::codec {

/// Reads a big-endian 32-bit word; `bytes` must hold at least four bytes.
inline std::uint32_t read_u32(std::string_view bytes) {
  const auto b = [&](std::size_t i) { return std::uint32_t{static_cast<unsigned char>(bytes[i])}; };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

/// Reads a big-endian 16-bit word; `bytes` must hold at least two bytes.
inline std::uint16_t read_u16(std::string_view bytes) {
  const auto b = [&](std::size_t i) { return std::uint16_t(static_cast<unsigned char>(bytes[i])); };
  return static_cast<std::uint16_t>(b(0) << 8 | b(1));
}

inline void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

inline void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

/// Appends `s` and its terminating NUL.
inline void put_cstring(std::string& out, std::string_view s) {
  out.append(s);
  out.push_back('\0');
}

/// A cursor over a message body that never reads past its end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  /// A NUL-terminated string, or nullopt if no NUL remains.
  std::optional<std::string_view> cstring() {
    const auto nul = rest_.find('\0');
    if (nul == std::string_view::npos) return std::nullopt;
    auto s = rest_.substr(0, nul);
    rest_.remove_prefix(nul + 1);
    return s;
  }
  std::optional<std::uint32_t> u32() {
    if (rest_.size() < 4) return std::nullopt;
    auto v = read_u32(rest_);
    rest_.remove_prefix(4);
    return v;
  }
  std::optional<std::uint16_t> u16() {
    if (rest_.size() < 2) return std::nullopt;
    auto v = read_u16(rest_);
    rest_.remove_prefix(2);
    return v;
  }
  std::optional<char> byte() {
    if (rest_.empty()) return std::nullopt;
    char c = rest_[0];
    rest_.remove_prefix(1);
    return c;
  }
  /// The next `n` bytes, or nullopt when fewer remain.
  std::optional<std::string_view> bytes(std::size_t n) {
    if (rest_.size() < n) return std::nullopt;
    auto s = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return s;
  }
  [[nodiscard]] bool empty() const { return rest_.empty(); }
  [[nodiscard]] std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

}  // namespace pgsoftdelete::proxy::codec
