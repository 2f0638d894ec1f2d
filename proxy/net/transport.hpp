// A connection's byte stream: plain (TCP or a Unix socket), or TLS over the same socket once negotiated. The
// pumps and writers read and write through it without knowing which.
#pragma once

#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <memory>

#include "net/asio.hpp"

namespace pgsoftdelete::proxy {

namespace ssl = asio::ssl;

class Transport {
 public:
  using TlsStream = ssl::stream<Socket&>;

  explicit Transport(Socket& socket) : socket_(socket) {}

  [[nodiscard]] Socket& socket() { return socket_; }
  [[nodiscard]] bool tls() const { return tls_ != nullptr; }

  /// Wraps the socket in TLS from now on; the caller performs the handshake on the result.
  TlsStream& start_tls(ssl::context& context) {
    tls_ = std::make_unique<TlsStream>(socket_, context);
    return *tls_;
  }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Token>(token));
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }

  /// Reads until `buffers` are full.
  template <class Buffers, class Token>
  auto async_read(const Buffers& buffers, Token&& token) {
    if (tls_) return asio::async_read(*tls_, buffers, std::forward<Token>(token));
    return asio::async_read(socket_, buffers, std::forward<Token>(token));
  }

  /// Writes all of `buffers`.
  template <class Buffers, class Token>
  auto async_write(const Buffers& buffers, Token&& token) {
    if (tls_) return asio::async_write(*tls_, buffers, std::forward<Token>(token));
    return asio::async_write(socket_, buffers, std::forward<Token>(token));
  }

  /// Writes what a plain socket takes at once, without waiting; returns the bytes written (0 with
  /// no error when nothing could be: TLS, or a full socket buffer). The common case of a small
  /// message then costs one sendmsg and no asynchronous operation.
  template <class Buffers>
  std::size_t write_now(const Buffers& buffers, error_code& ec) {
    ec.clear();
    if (tls_) return 0;
    if (!non_blocking_) {
      socket_.non_blocking(true, ec);
      if (ec) return 0;
      non_blocking_ = true;
    }
    const std::size_t n = socket_.write_some(buffers, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear();
    return n;
  }

  /// Cancels pending operations (the socket stays open).
  void cancel() {
    error_code ignored;
    socket_.cancel(ignored);
  }

 private:
  Socket& socket_;
  std::unique_ptr<TlsStream> tls_;
  bool non_blocking_ = false;  // set for write_now; asynchronous operations do not mind
};

}  // namespace pgsoftdelete::proxy
