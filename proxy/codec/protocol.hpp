// Constants of the PostgreSQL v3 wire protocol: message type codes, startup codes and limits.
// https://www.postgresql.org/docs/15/protocol-message-formats.html
#pragma once

#include <cstdint>

namespace pgsoftdelete::proxy::codec {

/// Message type codes sent by the client (frontend).
namespace frontend {
inline constexpr char bind = 'B';
inline constexpr char close = 'C';
inline constexpr char copy_data = 'd';
inline constexpr char copy_done = 'c';
inline constexpr char copy_fail = 'f';
inline constexpr char describe = 'D';
inline constexpr char execute = 'E';
inline constexpr char flush = 'H';
inline constexpr char function_call = 'F';
inline constexpr char parse = 'P';
inline constexpr char password = 'p';  ///< also SASLInitialResponse, SASLResponse, GSSResponse
inline constexpr char query = 'Q';
inline constexpr char sync = 'S';
inline constexpr char terminate = 'X';
}  // namespace frontend

/// Message type codes sent by the server (backend).
namespace backend {
inline constexpr char authentication = 'R';
inline constexpr char backend_key_data = 'K';
inline constexpr char bind_complete = '2';
inline constexpr char close_complete = '3';
inline constexpr char command_complete = 'C';
inline constexpr char copy_data = 'd';
inline constexpr char copy_done = 'c';
inline constexpr char copy_in_response = 'G';
inline constexpr char copy_out_response = 'H';
inline constexpr char data_row = 'D';
inline constexpr char empty_query_response = 'I';
inline constexpr char error_response = 'E';
inline constexpr char no_data = 'n';
inline constexpr char notice_response = 'N';
inline constexpr char notification_response = 'A';
inline constexpr char parameter_description = 't';
inline constexpr char parameter_status = 'S';
inline constexpr char parse_complete = '1';
inline constexpr char portal_suspended = 's';
inline constexpr char ready_for_query = 'Z';
inline constexpr char row_description = 'T';
}  // namespace backend

/// Codes in the second word of an untyped startup-phase packet.
namespace startup_code {
inline constexpr std::int32_t protocol_3_0 = 196608;     ///< 3 << 16
inline constexpr std::int32_t cancel_request = 80877102;  ///< 1234 << 16 | 5678
inline constexpr std::int32_t ssl_request = 80877103;     ///< 1234 << 16 | 5679
inline constexpr std::int32_t gssenc_request = 80877104;  ///< 1234 << 16 | 5680
}  // namespace startup_code

/// PostgreSQL rejects startup packets longer than this (MAX_STARTUP_PACKET_LENGTH in pqcomm.h).
inline constexpr std::uint32_t max_startup_packet_length = 10000;

/// Before the login completes a client sends only authentication messages, whose bodies PostgreSQL
/// caps at 65535 bytes (PG_MAX_AUTH_TOKEN_LENGTH in libpq/auth.h); this caps the length field,
/// which counts its own four bytes too.
inline constexpr std::uint32_t max_auth_message_length = 65535 + 4;

/// Authentication request codes (the first word of an Authentication message).
namespace auth_code {
inline constexpr std::uint32_t ok = 0;
inline constexpr std::uint32_t sasl = 10;
inline constexpr std::uint32_t sasl_continue = 11;
inline constexpr std::uint32_t sasl_final = 12;
}  // namespace auth_code

/// Authentication requests a PostgreSQL 15 server may send: ok, Kerberos V5, cleartext, MD5,
/// SCM credentials, GSS, GSS continue, SSPI, SASL, SASL continue, SASL final.
constexpr bool known_auth_code(std::uint32_t code) {
  return code == 0 || code == 2 || code == 3 || code == 5 || code == 6 || (code >= 7 && code <= 12);
}

/// Type byte plus the four length bytes.
inline constexpr std::uint32_t header_size = 5;

/// The length field counts itself, so it is never below four.
inline constexpr std::uint32_t min_message_length = 4;

/// Upper bound for messages from the server: PostgreSQL never allocates more (MaxAllocSize).
inline constexpr std::uint32_t max_backend_message_length = 0x3fffffff;

/// ReadyForQuery transaction status indicators.
namespace transaction_status {
inline constexpr char idle = 'I';
inline constexpr char in_block = 'T';
inline constexpr char failed = 'E';
}  // namespace transaction_status

}  // namespace pgsoftdelete::proxy::codec
