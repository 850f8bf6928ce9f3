// TLS on a non-blocking socket (OpenSSL 3), for the server's and the client's connections.
//
// Why not asio::ssl::stream: our connections do readiness-based I/O straight on the file
// descriptor with one receive buffer per thread (src/server/connection.cpp); an SSL object
// reading and writing the same descriptor keeps that shape (no per-read operation objects,
// no second buffer) and costs only the record layer. The socket BIO is our own so writes
// use MSG_NOSIGNAL: a peer that vanished must not raise SIGPIPE in a library.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;

namespace aerie::net {

enum class TlsStatus {
  Ok,         // `bytes` were read or written (the handshake is done, for handshake())
  WantRead,   // wait until the socket is readable, then call again
  WantWrite,  // wait until the socket is writable, then call again
  Closed,     // the peer closed the connection (close_notify or TCP FIN)
  Failed,     // a TLS or socket error: error() says which
};

struct TlsResult {
  TlsStatus status = TlsStatus::Ok;
  std::size_t bytes = 0;
};

/// Owns an SSL_CTX reference (SSL_CTX is reference-counted by OpenSSL).
class TlsContext {
 public:
  explicit TlsContext(SSL_CTX* ctx) noexcept : ctx_(ctx) {}
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  SSL_CTX* get() const noexcept { return ctx_; }

 private:
  SSL_CTX* ctx_;
};

/// Settings every context shares: TLS 1.2 and 1.3 only, a modern cipher list (Mozilla's
/// "intermediate"), no renegotiation, no compression, partial writes, and buffers released
/// while a connection is idle (an idle TLS connection then holds no 34 KiB record buffers).
void applyCommonSettings(SSL_CTX* ctx);

/// The oldest OpenSSL error queued on this thread, as text (the queue is cleared).
std::string takeOpenSslError();

/// OpenSSL's pem_password_cb for encrypted private keys (SSL_CTX_set_default_passwd_cb):
/// `userdata` is a const std::string* with the passphrase (null or empty: none).
int passphraseCallback(char* buffer, int size, int rwflag, void* userdata);

/// Why the `kind` file at `path` cannot be read ("certificate file '/x' cannot be read:
/// No such file or directory"), nullopt if it can: checked before OpenSSL's own messages
/// (which do not name the file) get a chance.
std::optional<std::string> unreadableFile(const std::string& path, std::string_view kind);

class TlsChannel {
 public:
  /// Server side of a connection on `fd`.
  static std::unique_ptr<TlsChannel> accept(SSL_CTX* ctx, int fd);
  /// Client side: sends `serverName` as SNI (unless it is an IP address) and, when `verify`
  /// is set, checks the certificate against it (host name or IP address).
  static std::unique_ptr<TlsChannel> connect(SSL_CTX* ctx, int fd, std::string_view serverName,
                                             bool verify);
  ~TlsChannel();
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  /// Drives the handshake (the client calls it until Ok; read() and write() also do it).
  TlsResult handshake();
  TlsResult read(char* data, std::size_t size);
  TlsResult write(const char* data, std::size_t size);
  /// Sends close_notify if the handshake finished (best effort: never waits).
  void shutdown() noexcept;
  bool handshakeDone() const noexcept;

  /// Why the last call failed: the certificate check that failed (expired, unknown CA,
  /// name mismatch...), the peer's alert, or the socket error.
  const std::string& error() const noexcept { return error_; }
  /// The negotiated ALPN protocol ("" = none) and TLS version ("TLSv1.3").
  std::string alpn() const;
  std::string version() const;
  SSL* ssl() const noexcept { return ssl_; }
  /// Keeps `owner` (what holds the SSL_CTX: a server's certificates) alive as long as this
  /// channel: here rather than beside it in every connection, which is plain TCP mostly.
  void keepAlive(std::shared_ptr<const void> owner) noexcept { owner_ = std::move(owner); }

 private:
  explicit TlsChannel(SSL* ssl) noexcept : ssl_(ssl) {}
  TlsResult result(int ret);

  SSL* ssl_;
  std::string error_;
  std::shared_ptr<const void> owner_;
};

}  // namespace aerie::net
