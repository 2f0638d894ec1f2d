// Framing of typed protocol messages (type byte + length): header decoding and the
// stream framer that splits a byte stream into messages to inspect and bytes to pass on.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgsoftdelete::proxy::codec {

/// The five bytes in front of every message of the working phase.
struct Header {
  char type = 0;
  std::uint32_t length = 0;  ///< as on the wire: counts itself, not the type byte
  /// Bytes of the whole message, type byte included.
  [[nodiscard]] std::size_t total() const { return std::size_t{length} + 1; }
};

/// What a decoder can say about the bytes it was given.
enum class DecodeStatus {
  need_more,  ///< not enough bytes yet; nothing consumed
  ok,         ///< a value was decoded
  malformed,  ///< the bytes cannot be a valid message; the connection must be closed
};

struct HeaderResult {
  DecodeStatus status = DecodeStatus::need_more;
  Header header;
  std::string error;  ///< set when malformed
};

/// Reads a message header from the front of `bytes`. A length below 4 or above
/// `max_length` is malformed.
HeaderResult decode_header(std::string_view bytes, std::uint32_t max_length);

/// Builds a type set from a list of type bytes.
template <class... Types>
std::bitset<256> type_set(Types... types) {
  std::bitset<256> set;
  (set.set(static_cast<unsigned char>(types)), ...);
  return set;
}

/// Splits a byte stream into steps. Messages whose type the caller wants to inspect come out
/// whole; all others come out as runs of bytes to forward untouched, without waiting for the
/// whole message, so a 100 MB DataRow never has to fit in a buffer.
class StreamFramer {
 public:
  /// The message types to deliver whole, indexed by type byte.
  using TypeSet = std::bitset<256>;

  StreamFramer(std::uint32_t max_length, TypeSet inspect) : max_length_(max_length), inspect_(inspect) {}

  struct Step {
    enum class Kind {
      need_more,  ///< feed more bytes; `needed` says how many the front message needs in all
      forward,    ///< pass the first `size` bytes on untouched
      message,    ///< a whole inspected message of `size` bytes: `header` and `body`
      malformed,  ///< stop: `error` says why
    } kind = Kind::need_more;
    std::size_t size = 0;
    std::size_t needed = 0;
    Header header;
    std::string_view body;
    std::string error;
  };

  /// Looks at the unconsumed bytes and says what the first step is; the caller consumes
  /// `size` bytes for forward and message steps.
  Step next(std::string_view bytes);

  /// Changes the cap and the inspected types, between messages (as when a login completes).
  /// Changes which types are delivered whole, from the next message on.
  void inspect(TypeSet types) { inspect_ = types; }
  void configure(std::uint32_t max_length, TypeSet inspect) {
    max_length_ = max_length;
    inspect_ = inspect;
  }

  /// Type byte of the most recent message whose header was read (0 before any).
  [[nodiscard]] char last_type() const { return last_type_; }
  /// True while the bytes of a forwarded message are still arriving.
  [[nodiscard]] bool mid_message() const { return streaming_left_ > 0; }

 private:
  std::uint32_t max_length_;
  TypeSet inspect_;
  std::size_t streaming_left_ = 0;
  char last_type_ = 0;
};

}  // namespace pgsoftdelete::proxy::codec
