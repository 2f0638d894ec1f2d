// Header decoding and stream framing; see frame.hpp.
#include "codec/frame.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "codec/protocol.hpp"
#include "codec/wire.hpp"

namespace pgsoftdelete::proxy::codec {

HeaderResult decode_header(std::string_view bytes, std::uint32_t max_length) {
  HeaderResult result;
  if (bytes.size() < header_size) return result;
  result.header.type = bytes[0];
  result.header.length = read_u32(bytes.substr(1));
  if (result.header.length < min_message_length) {
    result.status = DecodeStatus::malformed;
    result.error = fmt::format("message of type 0x{:02x} has invalid length {}",
                               static_cast<unsigned char>(result.header.type), result.header.length);
  } else if (result.header.length > max_length) {
    result.status = DecodeStatus::malformed;
    result.error = fmt::format("message of type 0x{:02x} has length {}, above the maximum of {}",
                               static_cast<unsigned char>(result.header.type), result.header.length, max_length);
  } else {
    result.status = DecodeStatus::ok;
  }
  return result;
}

StreamFramer::Step StreamFramer::next(std::string_view bytes) {
  Step step;
  if (streaming_left_ > 0) {
    if (bytes.empty()) {
      step.needed = 1;
      return step;
    }
    step.kind = Step::Kind::forward;
    step.size = std::min(bytes.size(), streaming_left_);
    streaming_left_ -= step.size;
    return step;
  }
  auto header = decode_header(bytes, max_length_);
  if (header.status == DecodeStatus::need_more) {
    step.needed = header_size;
    return step;
  }
  if (header.status == DecodeStatus::malformed) {
    step.kind = Step::Kind::malformed;
    step.error = std::move(header.error);
    return step;
  }
  last_type_ = header.header.type;
  const std::size_t total = header.header.total();
  if (inspect_.test(static_cast<unsigned char>(header.header.type))) {
    if (bytes.size() < total) {
      step.needed = total;
      return step;
    }
    step.kind = Step::Kind::message;
    step.size = total;
    step.header = header.header;
    step.body = bytes.substr(header_size, total - header_size);
    return step;
  }
  step.kind = Step::Kind::forward;
  step.header = header.header;
  step.size = std::min(bytes.size(), total);
  streaming_left_ = total - step.size;
  return step;
}

}  // namespace pgsoftdelete::proxy::codec
