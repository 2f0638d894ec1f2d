// Extended-protocol messages for the raw client, for what libpq does not expose (row-limited
// Execute, hand-made pipelines).
#pragma once

#include <string>
#include <vector>

#include "codec/messages.hpp"
#include "codec/wire.hpp"

namespace pgsoftdelete::test::wire {

inline std::string parse(const std::string& name, const std::string& sql) {
  std::string out;
  proxy::codec::encode(proxy::codec::Parse{name, sql, {}}, out);
  return out;
}

/// Bind with text parameters and text results.
inline std::string bind(const std::string& portal, const std::string& statement, const std::vector<std::string>& params) {
  std::string rest;
  proxy::codec::put_u16(rest, 0);
  proxy::codec::put_u16(rest, static_cast<std::uint16_t>(params.size()));
  for (const auto& p : params) {
    proxy::codec::put_u32(rest, static_cast<std::uint32_t>(p.size()));
    rest += p;
  }
  proxy::codec::put_u16(rest, 0);
  std::string out;
  proxy::codec::encode(proxy::codec::Bind{portal, statement, rest}, out);
  return out;
}

inline std::string execute(const std::string& portal, std::uint32_t max_rows) {
  std::string body = portal + '\0';
  proxy::codec::put_u32(body, max_rows);
  std::string out;
  proxy::codec::encode_raw('E', body, out);
  return out;
}

inline std::string sync() {
  std::string out;
  proxy::codec::encode_raw('S', "", out);
  return out;
}

inline std::string query(const std::string& sql) {
  std::string out;
  proxy::codec::encode(proxy::codec::Query{sql}, out);
  return out;
}

}  // namespace pgsoftdelete::test::wire
