// The stream targets' shared part: proxy/message_pump.cpp's framing loop, emulated over bytes that arrive
// whole, in two pieces or one byte at a time, with every StreamFramer step's contract checked.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec/frame.hpp"
#include "codec/protocol.hpp"
#include "codec/wire.hpp"
#include "fuzz_check.hpp"

namespace pgsd_fuzz {

namespace codec = pgsoftdelete::proxy::codec;
using Step = codec::StreamFramer::Step;

/// What the far side sees of a framed stream, independent of how the bytes arrived: runs of forwarded
/// bytes (consecutive forward steps merged), whole inspected messages, and where framing stopped.
struct Event {
  enum class Kind { forward, message, malformed } kind = Kind::forward;
  std::string bytes;  ///< forwarded bytes, the whole message, or the error text
  bool operator==(const Event&) const = default;
};

struct Framing {
  std::vector<Event> events;
  std::size_t consumed = 0;  ///< bytes taken by forward and message steps
  bool malformed = false;
  bool mid_message = false;  ///< framer state at the end
  char last_type = 0;
  bool operator==(const Framing&) const = default;
};

/// How a framer is configured: the longest message and the types delivered whole.
struct Phase {
  std::uint32_t max_length = 0;
  codec::StreamFramer::TypeSet inspect;
};

/// The client side before the login completes (Session::LoginGate, proxy/session.cpp): every type
/// inspected, at most max_auth_message_length bytes; the session reconfigures the framer between
/// messages once the server accepts the login (MessagePump::reframe).
inline Phase login_phase() { return {codec::max_auth_message_length, codec::StreamFramer::TypeSet{}.set()}; }

/// Feeds `input` to a fresh StreamFramer in chunks ending at `cuts` (increasing offsets; the end of the
/// input is always a cut), stepping as MessagePump does: after each chunk, step until need_more; consume
/// `size` bytes of forward and message steps; stop at malformed. Checks every step's contract; calls
/// `on_message(header, whole_message_bytes)` for each inspected message. With a `login` phase the framer
/// starts in it and switches to `normal` before the first message that is not of type 'p' (the login is
/// taken to complete after the client's last authentication message).
template <class OnMessage>
Framing frame_stream(std::string_view input, const std::vector<std::size_t>& cuts, const Phase* login,
                     const Phase& normal, OnMessage&& on_message) {
  Phase phase = login != nullptr ? *login : normal;
  bool logging_in = login != nullptr;
  codec::StreamFramer framer(phase.max_length, phase.inspect);
  const std::uint32_t& max_length = phase.max_length;
  const codec::StreamFramer::TypeSet& inspect = phase.inspect;
  Framing out;
  std::size_t begin = 0;  // first unconsumed byte
  auto deliver = [&](std::size_t end) {  // bytes [0, end) have arrived
    for (;;) {
      const std::string_view available = input.substr(begin, end - begin);
      if (logging_in && !available.empty() && available[0] != codec::frontend::password) {
        FUZZ_CHECK(!framer.mid_message());  // every type is inspected until then: never mid-message
        logging_in = false;
        phase = normal;
        framer.configure(phase.max_length, phase.inspect);
      }
      const bool was_mid = framer.mid_message();
      Step step = framer.next(available);
      switch (step.kind) {
        case Step::Kind::need_more:
          // Asking for bytes that are already there would stall the pump for good.
          FUZZ_CHECK(step.needed > available.size());
          FUZZ_CHECK(was_mid || step.needed >= codec::header_size);
          return true;
        case Step::Kind::forward:
          FUZZ_CHECK(step.size > 0 && step.size <= available.size());  // 0 would loop forever
          if (!was_mid) {  // the front of a message the caller did not ask to inspect
            FUZZ_CHECK(step.size >= codec::header_size);
            FUZZ_CHECK(step.header.type == available[0]);
            FUZZ_CHECK(!inspect.test(static_cast<unsigned char>(step.header.type)));
            FUZZ_CHECK(step.header.length == codec::read_u32(available.substr(1)));
            FUZZ_CHECK(step.header.length >= codec::min_message_length && step.header.length <= max_length);
            FUZZ_CHECK(step.size == std::min<std::size_t>(available.size(), step.header.total()));
            FUZZ_CHECK(framer.mid_message() == (step.size < step.header.total()));
          }
          if (!out.events.empty() && out.events.back().kind == Event::Kind::forward)
            out.events.back().bytes.append(available.substr(0, step.size));
          else
            out.events.push_back({Event::Kind::forward, std::string(available.substr(0, step.size))});
          begin += step.size;
          break;
        case Step::Kind::message: {
          FUZZ_CHECK(!was_mid);
          FUZZ_CHECK(step.size >= codec::header_size && step.size <= available.size());
          FUZZ_CHECK(step.size == step.header.total());
          FUZZ_CHECK(step.header.type == available[0]);
          FUZZ_CHECK(inspect.test(static_cast<unsigned char>(step.header.type)));
          FUZZ_CHECK(step.header.length == codec::read_u32(available.substr(1)));
          FUZZ_CHECK(step.header.length >= codec::min_message_length && step.header.length <= max_length);
          FUZZ_CHECK(step.body.data() == available.data() + codec::header_size);
          FUZZ_CHECK(step.body.size() == step.size - codec::header_size);
          FUZZ_CHECK(!framer.mid_message());
          const std::string_view whole = available.substr(0, step.size);
          on_message(step.header, whole);
          out.events.push_back({Event::Kind::message, std::string(whole)});
          begin += step.size;
          break;
        }
        case Step::Kind::malformed:
          FUZZ_CHECK(!was_mid && available.size() >= codec::header_size && !step.error.empty());
          out.events.push_back({Event::Kind::malformed, step.error});
          out.malformed = true;
          return false;
      }
      out.consumed = begin;
    }
  };
  for (std::size_t cut : cuts) {
    if (cut > input.size()) cut = input.size();
    if (!deliver(cut)) break;
  }
  if (!out.malformed) deliver(input.size());
  out.consumed = begin;
  out.mid_message = framer.mid_message();
  out.last_type = framer.last_type();
  return out;
}

/// Frames `input` delivered whole (calling `on_message` for each inspected message), then split in two at
/// a point chosen from the data, then one byte at a time: all three must give the same messages, the same
/// forwarded bytes and stop at the same place.
template <class OnMessage>
void check_stream(std::string_view input, const Phase* login, const Phase& normal, OnMessage&& on_message) {
  const Framing whole = frame_stream(input, {input.size()}, login, normal, on_message);
  FUZZ_CHECK(whole.consumed <= input.size());

  auto ignore = [](const codec::Header&, std::string_view) {};
  std::size_t split = 0;
  if (input.size() >= 2)
    split = (std::size_t{static_cast<unsigned char>(input[input.size() - 1])} << 8 |
             static_cast<unsigned char>(input[input.size() - 2])) %
            (input.size() + 1);
  const Framing halves = frame_stream(input, {split, input.size()}, login, normal, ignore);
  FUZZ_CHECK(halves == whole);

  std::vector<std::size_t> bytes;
  bytes.reserve(input.size() + 1);
  for (std::size_t i = 0; i <= input.size(); ++i) bytes.push_back(i);
  const Framing trickle = frame_stream(input, bytes, login, normal, ignore);
  FUZZ_CHECK(trickle == whole);

  // Everything before the stopping point was forwarded or delivered, byte for byte, in order.
  std::string seen;
  for (const auto& e : whole.events)
    if (e.kind != Event::Kind::malformed) seen += e.bytes;
  FUZZ_CHECK(seen == input.substr(0, whole.consumed));
}

}  // namespace pgsd_fuzz
