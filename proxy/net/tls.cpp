// TLS contexts; see tls.hpp.
#include "net/tls.hpp"

#include <openssl/ssl.h>

namespace pgsoftdelete::proxy {

namespace {

/// TLS 1.2 at least, either way.
void set_minimum(ssl::context& context) {
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  context.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
}

std::string why(const std::filesystem::path& file, const char* what, const error_code& ec) {
  return "cannot load " + std::string(what) + " " + file.string() + ": " + ec.message();
}

}  // namespace

std::expected<TlsContexts, std::string> make_tls_contexts(const Config& config) {
  TlsContexts contexts;
  error_code ec;
  if (config.tls_cert_file) {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    set_minimum(*context);
    if (context->use_certificate_chain_file(config.tls_cert_file->string(), ec); ec)
      return std::unexpected(why(*config.tls_cert_file, "tls_cert_file", ec));
    if (context->use_private_key_file(config.tls_key_file->string(), ssl::context::pem, ec); ec)
      return std::unexpected(why(*config.tls_key_file, "tls_key_file", ec));
    if (SSL_CTX_check_private_key(context->native_handle()) != 1)
      return std::unexpected("tls_key_file " + config.tls_key_file->string() + " does not match tls_cert_file");
    if (config.tls_client_certs != ClientCerts::none) {
      if (context->load_verify_file(config.tls_client_ca_file->string(), ec); ec)
        return std::unexpected(why(*config.tls_client_ca_file, "tls_client_ca_file", ec));
      context->set_verify_mode(config.tls_client_certs == ClientCerts::require
                                   ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                                   : ssl::verify_peer);
    }
    contexts.clients = std::move(context);
  }
  if (config.upstream_tls != UpstreamTls::disable) {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    set_minimum(*context);
    if (config.upstream_tls == UpstreamTls::verify_ca || config.upstream_tls == UpstreamTls::verify_full) {
      if (context->load_verify_file(config.upstream_tls_ca_file->string(), ec); ec)
        return std::unexpected(why(*config.upstream_tls_ca_file, "upstream_tls_ca_file", ec));
      context->set_verify_mode(ssl::verify_peer);
    } else {
      context->set_verify_mode(ssl::verify_none);
    }
    contexts.upstream = std::move(context);
  }
  return contexts;
}

}  // namespace pgsoftdelete::proxy
