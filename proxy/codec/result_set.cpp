// Text result sets; see result_set.hpp.
#include "codec/result_set.hpp"

#include "codec/messages.hpp"
#include "codec/protocol.hpp"
#include "codec/wire.hpp"

namespace pgsoftdelete::proxy::codec {

namespace {
constexpr std::uint32_t text_oid = 25;
}

void encode(const TextResult& result, std::string& out) {
  std::string body;
  put_u16(body, static_cast<std::uint16_t>(result.columns.size()));
  for (const auto& name : result.columns) {
    put_cstring(body, name);
    put_u32(body, 0);       // no table
    put_u16(body, 0);       // no column number
    put_u32(body, text_oid);
    put_u16(body, 0xffff);  // typlen -1: variable
    put_u32(body, 0xffffffff);  // typmod -1
    put_u16(body, 0);       // text format
  }
  encode_raw(backend::row_description, body, out);
  for (const auto& row : result.rows) {
    body.clear();
    put_u16(body, static_cast<std::uint16_t>(row.size()));
    for (const auto& value : row) {
      if (!value) {
        put_u32(body, 0xffffffff);
        continue;
      }
      put_u32(body, static_cast<std::uint32_t>(value->size()));
      body += *value;
    }
    encode_raw(backend::data_row, body, out);
  }
  encode(CommandComplete{result.tag}, out);
}

}  // namespace pgsoftdelete::proxy::codec
