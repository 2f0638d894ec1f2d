// Authentication messages the proxy edits: the server's SASL mechanism list.
// https://www.postgresql.org/docs/15/sasl-authentication.html
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgsoftdelete::proxy::codec {

/// AuthenticationSASL's code in an Authentication message.
inline constexpr std::uint32_t auth_sasl = 10;

/// SCRAM with channel binding ties the login to the TLS connection it runs on, which a proxy
/// that terminates TLS cannot pass through. Given the body of an Authentication message,
/// returns the whole message re-encoded without "SCRAM-SHA-256-PLUS" when it is an
/// AuthenticationSASL that offers it; nothing otherwise (forward as it is).
std::optional<std::string> without_channel_binding(std::string_view authentication_body);

}  // namespace pgsoftdelete::proxy::codec
