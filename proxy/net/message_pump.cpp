// The read-frame-write loop of one session direction; see message_pump.hpp.
#include "net/message_pump.hpp"

#include <algorithm>
#include <cstring>

#include "codec/protocol.hpp"

namespace pgsoftdelete::proxy {

using Step = codec::StreamFramer::Step;

void MessagePump::add_range(std::size_t offset, std::size_t size) {
  if (size == 0) return;
  // Consecutive forwarded bytes are contiguous in the buffer: extend the last range.
  if (!pieces_.empty() && !pieces_.back().from_outbox && pieces_.back().offset + pieces_.back().size == offset)
    pieces_.back().size += size;
  else
    pieces_.push_back(Piece{offset, size, false});
}

bool MessagePump::flush_now(error_code& ec) {
  ec.clear();
  if (pieces_.empty()) return true;
  buffers_.clear();
  for (const auto& p : pieces_)
    buffers_.push_back(p.from_outbox ? asio::buffer(owned_[p.offset]) : asio::buffer(buffer_.data() + p.offset, p.size));
  return to_.try_write(buffers_, ec);
}

void MessagePump::make_room(std::size_t needed) {
  // Keep the unconsumed tail at the front of the buffer. The buffer grows for a large inspected
  // message only as its bytes arrive (doubling when full), never to the length a header merely
  // announces: a peer that promises 1 GiB and sends 5 bytes costs nothing. It shrinks back after.
  const std::size_t pending = end_ - begin_;
  std::size_t capacity = buffer_.size();
  if (needed <= default_buffer && pending <= default_buffer) capacity = default_buffer;
  else if (pending == buffer_.size()) capacity = std::min(needed, 2 * buffer_.size());
  if (capacity != buffer_.size()) {
    std::vector<char> next(capacity);
    std::memcpy(next.data(), buffer_.data() + begin_, pending);
    buffer_.swap(next);
  } else if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, pending);
  }
  begin_ = 0;
  end_ = pending;
}

awaitable<PumpEnd> MessagePump::run() {
  PumpEnd end;
  std::size_t needed = codec::header_size;
  bool held = false;  // stopped framing at a hold: frame what is buffered before reading again
  for (;;) {
    if (begin_ + needed > buffer_.size() || end_ == buffer_.size() ||
        (begin_ == end_ && buffer_.size() > default_buffer))
      make_room(needed);
    error_code ec;
    std::size_t n = 0;
    if (!stop_requested_ && !held)
      n = co_await from_.async_read_some(asio::buffer(buffer_.data() + end_, buffer_.size() - end_), no_throw(ec));
    held = false;
    if (stop_requested_) {
      end.kind = PumpEnd::Kind::stopped;
      break;
    }
    if (ec) {
      end.kind = ec == asio::error::eof ? PumpEnd::Kind::eof : PumpEnd::Kind::read_error;
      end.detail = ec.message();
      break;
    }
    end_ += n;
    bytes_read_ += n;

    bool stop = false;
    bool malformed = false;
    for (;;) {
      const std::string_view available(buffer_.data() + begin_, end_ - begin_);
      Step step = framer_.next(available);
      if (step.kind == Step::Kind::need_more) {
        needed = step.needed;
        break;
      }
      if (step.kind == Step::Kind::malformed) {
        end.kind = PumpEnd::Kind::malformed;
        end.detail = std::move(step.error);
        malformed = true;
        break;
      }
      if (step.kind == Step::Kind::forward) {
        add_range(begin_, step.size);
      } else {
        Outbox out;
        const Verdict verdict = handler_.on_message(step.header, available.substr(0, step.size), out);
        if (verdict == Verdict::reject) {
          end.kind = PumpEnd::Kind::malformed;
          end.detail = std::move(out.rejection_);
          malformed = true;
          break;
        }
        if (out.inspect_) framer_.inspect(*out.inspect_);
        if (verdict == Verdict::replace || verdict == Verdict::defer) {
          for (auto& s : out.owned_) {
            pieces_.push_back(Piece{owned_.size(), s.size(), true});
            owned_.push_back(std::move(s));
          }
        } else {
          add_range(begin_, step.size);
        }
        if (verdict == Verdict::defer) {  // the message stays in the buffer, framed again once released
          held = true;
          break;
        }
        stop = verdict == Verdict::stop_after;
      }
      begin_ += step.size;
      needed = codec::header_size;
      if (stop) break;
      if (step.kind == Step::Kind::message && handler_.holding()) {
        held = true;
        break;
      }
    }
    // Whatever was framed before a malformed message still goes out: it was valid. Written at
    // once when the socket takes it (no suspension), else awaited.
    error_code write_ec;
    if (!flush_now(write_ec)) write_ec = co_await to_.write(buffers_);
    pieces_.clear();
    owned_.clear();
    if (write_ec) {
      end.kind = PumpEnd::Kind::write_error;
      end.detail = write_ec.message();
      break;
    }
    if (malformed) break;
    if (stop) {
      end.kind = PumpEnd::Kind::stopped;
      break;
    }
    if (held) {
      co_await handler_.until_released();
      held = begin_ != end_;  // frame the rest of what was read before reading more
    }
    if (begin_ == end_) begin_ = end_ = 0;
  }
  end.last_type = framer_.last_type();
  end.mid_message = framer_.mid_message();
  co_return end;
}

}  // namespace pgsoftdelete::proxy
