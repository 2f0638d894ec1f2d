// What a session does with the messages it inspects in each direction. This is where the
// rewriting engine plugs in: client Query/Parse replaced, server CommandComplete fixed up.
#pragma once

#include "codec/protocol.hpp"
#include "net/message_pump.hpp"

namespace pgsoftdelete::proxy {

/// Client to server: sees Terminate, to end the session once it has been passed on.
class ClientHandler final : public MessageHandler {
 public:
  [[nodiscard]] codec::StreamFramer::TypeSet inspected() const override {
    return codec::type_set(codec::frontend::terminate);
  }
  Verdict on_message(const codec::Header& header, std::string_view, Outbox&) override {
    return header.type == codec::frontend::terminate ? Verdict::stop_after : Verdict::forward;
  }
};

/// Server to client: everything streams through untouched.
class ServerHandler final : public MessageHandler {
 public:
  [[nodiscard]] codec::StreamFramer::TypeSet inspected() const override { return {}; }
  Verdict on_message(const codec::Header&, std::string_view, Outbox&) override { return Verdict::forward; }
};

}  // namespace pgsoftdelete::proxy
