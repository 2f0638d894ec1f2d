// Moves framed messages from one socket to another. Messages the session wants to see are
// handed to it whole; all other bytes go straight from the read buffer to the socket, several
// messages per write, so DataRow and CopyData are never copied or allocated per message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/asio.hpp"
#include "codec/frame.hpp"
#include "net/serial_writer.hpp"

namespace pgsoftdelete::proxy {

/// What the handler decided about an inspected message.
enum class Verdict {
  forward,     ///< send the message on as it is
  replace,     ///< send what was put in the Outbox instead (possibly nothing)
  stop_after,  ///< send the message on, then end the pump (Terminate)
  reject,      ///< drop it and end the pump as for a malformed message (see Outbox::reject)
  defer,       ///< not now: send what is in the Outbox, wait for until_released(), then decide it again
};

/// What to send on for one inspected message, built by the session's handler.
class Outbox {
 public:
  /// Queues bytes to send instead of the message (any number of whole messages, or none).
  void send(std::string bytes) { owned_.push_back(std::move(bytes)); }
  [[nodiscard]] bool empty() const { return owned_.empty(); }
  /// What was queued so far (for tests and logs).
  [[nodiscard]] const std::vector<std::string>& queued() const { return owned_; }
  /// From the next message on, deliver these types whole (e.g. DataRows of the proxy's own query).
  void inspect(codec::StreamFramer::TypeSet types) { inspect_ = types; }
  [[nodiscard]] std::optional<codec::StreamFramer::TypeSet>& inspect_request() { return inspect_; }
  /// Refuses the message: the pump ends as for a malformed one, with this reason.
  Verdict reject(std::string reason) {
    rejection_ = std::move(reason);
    return Verdict::reject;
  }

 private:
  friend class MessagePump;
  std::vector<std::string> owned_;
  std::string rejection_;
  std::optional<codec::StreamFramer::TypeSet> inspect_;
};

/// The session side of a pump: which message types to see whole, and what to do with them.
class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  /// Types to deliver whole to on_message.
  [[nodiscard]] virtual codec::StreamFramer::TypeSet inspected() const = 0;
  /// Decides about one whole message (`bytes` includes the header).
  virtual Verdict on_message(const codec::Header& header, std::string_view bytes, Outbox& out) = 0;
  /// True after a message whose answer must come back before the next message is decided (a SET
  /// of a hint, a COMMIT): the pump then sends what it has and waits for until_released().
  [[nodiscard]] virtual bool holding() const { return false; }
  virtual awaitable<void> until_released() { co_return; }
};

/// Why a pump ended.
struct PumpEnd {
  enum class Kind {
    stopped,    ///< the handler asked to stop (the message was sent)
    eof,        ///< the source closed its end cleanly
    read_error, ///< reading from the source failed
    write_error,///< writing to the destination failed
    malformed,  ///< the source sent bytes that are not a valid message
  } kind = Kind::eof;
  std::string detail;
  char last_type = 0;  ///< type of the last message read from the source
  bool mid_message = false;  ///< the source ended inside a message already partly forwarded
};

/// One direction of a session.
class MessagePump {
 public:
  /// Buffer size for reads; grows with the bytes of a large inspected message, then shrinks back.
  static constexpr std::size_t default_buffer = 16 * 1024;

  MessagePump(Transport& from, SerialWriter& to, std::uint32_t max_length, MessageHandler& handler)
      : from_(from), to_(to), handler_(handler), framer_(max_length, handler.inspected()) {}

  /// Runs until the source closes, an error, a malformed message or the handler's stop.
  awaitable<PumpEnd> run();

  /// Ends the pump at its next read, as if the handler had stopped it: a pending read is
  /// cancelled, a write in progress completes first. Call on the pump's executor.
  void request_stop() {
    stop_requested_ = true;
    from_.cancel();
  }

  /// Changes the cap and the inspected types from the next message on (a login completed).
  void reframe(std::uint32_t max_length, codec::StreamFramer::TypeSet inspect) { framer_.configure(max_length, inspect); }

  /// True while only part of a message has been passed on: nothing may be written in between.
  [[nodiscard]] bool mid_message() const { return framer_.mid_message(); }

  /// Bytes read from the source so far.
  [[nodiscard]] std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  /// One piece of the next write: a range of the read buffer, or an Outbox string.
  struct Piece {
    std::size_t offset = 0;  ///< into buffer_, or index into owned_ when from_outbox
    std::size_t size = 0;
    bool from_outbox = false;
  };

  void add_range(std::size_t offset, std::size_t size);
  /// Gathers the pieces into buffers_ and writes what the socket takes now; false when the rest,
  /// left in buffers_, must be awaited.
  bool flush_now(error_code& ec);
  void make_room(std::size_t needed);

  Transport& from_;
  SerialWriter& to_;
  MessageHandler& handler_;
  codec::StreamFramer framer_;
  std::vector<char> buffer_ = std::vector<char>(default_buffer);
  std::size_t begin_ = 0;  // first unconsumed byte
  std::size_t end_ = 0;    // one past the last byte read
  std::vector<Piece> pieces_;
  std::vector<std::string> owned_;
  std::vector<asio::const_buffer> buffers_;
  std::uint64_t bytes_read_ = 0;
  bool stop_requested_ = false;
};

}  // namespace pgsoftdelete::proxy
