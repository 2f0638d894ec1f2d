// TLS contexts from the configuration: one to serve clients, one to connect to the upstream.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "ops/config.hpp"
#include "net/transport.hpp"

namespace pgsoftdelete::proxy {

struct TlsContexts {
  std::shared_ptr<ssl::context> clients;   ///< null: SSLRequest is answered 'N'
  std::shared_ptr<ssl::context> upstream;  ///< null: upstream_tls = disable
};

/// Loads certificates, keys and CAs; the error names the file and what is wrong with it.
std::expected<TlsContexts, std::string> make_tls_contexts(const Config& config);

}  // namespace pgsoftdelete::proxy
