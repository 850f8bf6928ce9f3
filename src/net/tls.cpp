#include "net/tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

namespace aerie::net {
namespace {

// ---- a socket BIO that never raises SIGPIPE -----------------------------------------------

int descriptorOf(BIO* bio) {
  return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio)));
}

int bioWrite(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  while (true) {
    const ssize_t n = ::send(descriptorOf(bio), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
    return -1;
  }
}

int bioRead(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  while (true) {
    const ssize_t n = ::recv(descriptorOf(bio), data, static_cast<std::size_t>(size), 0);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(bio);
    return -1;
  }
}

long bioControl(BIO*, int command, long, void*) {
  return command == BIO_CTRL_FLUSH ? 1 : 0;  // writes are never buffered here
}

int bioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* socketMethod() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "aerie socket");
    BIO_meth_set_write(m, bioWrite);
    BIO_meth_set_read(m, bioRead);
    BIO_meth_set_ctrl(m, bioControl);
    BIO_meth_set_create(m, bioCreate);
    return m;
  }();
  return method;
}

SSL* newSsl(SSL_CTX* ctx, int fd) {
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) return nullptr;
  BIO* bio = BIO_new(socketMethod());
  if (bio == nullptr) {
    SSL_free(ssl);
    return nullptr;
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
  SSL_set_bio(ssl, bio, bio);  // one BIO both ways: SSL_free frees it once
  return ssl;
}

bool isIpAddress(const std::string& name) {
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(AF_INET, name.c_str(), address) == 1 ||
         inet_pton(AF_INET6, name.c_str(), address) == 1;
}

// Mozilla's "intermediate" TLS 1.2 suites (forward secrecy, AEAD only); TLS 1.3's are fixed
// by OpenSSL and all modern.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

void applyCommonSettings(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  // IGNORE_UNEXPECTED_EOF: a TCP FIN without close_notify is an ordinary close here; the
  // WebSocket and HTTP layers above have their own framing to detect truncation.
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_cipher_list(ctx, kTls12Ciphers);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
}

std::string takeOpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown TLS error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  // "error:0A000086:SSL routines::certificate verify failed" -> the reason alone.
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? std::string(reason) : std::string(text);
}

std::unique_ptr<TlsChannel> TlsChannel::accept(SSL_CTX* ctx, int fd) {
  SSL* ssl = newSsl(ctx, fd);
  if (ssl == nullptr) return nullptr;
  SSL_set_accept_state(ssl);
  return std::unique_ptr<TlsChannel>(new TlsChannel(ssl));
}

std::unique_ptr<TlsChannel> TlsChannel::connect(SSL_CTX* ctx, int fd, std::string_view serverName,
                                                bool verify) {
  SSL* ssl = newSsl(ctx, fd);
  if (ssl == nullptr) return nullptr;
  std::string name(serverName);
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  const bool ip = isIpAddress(name);
  if (!ip && !name.empty()) SSL_set_tlsext_host_name(ssl, name.c_str());  // SNI: names only
  if (verify) {
    SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      SSL_set1_host(ssl, name.c_str());
    }
  } else {
    SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
  }
  SSL_set_connect_state(ssl);
  return std::unique_ptr<TlsChannel>(new TlsChannel(ssl));
}

TlsChannel::~TlsChannel() {
  SSL_free(ssl_);
}

bool TlsChannel::handshakeDone() const noexcept {
  return SSL_is_init_finished(ssl_) == 1;
}

TlsResult TlsChannel::handshake() {
  ERR_clear_error();
  errno = 0;  // SSL_ERROR_SYSCALL reads it
  const int ret = SSL_do_handshake(ssl_);
  if (ret == 1) return {TlsStatus::Ok, 0};
  return result(ret);
}

TlsResult TlsChannel::read(char* data, std::size_t size) {
  ERR_clear_error();
  errno = 0;
  std::size_t n = 0;
  const int ret = SSL_read_ex(ssl_, data, size, &n);
  if (ret == 1) return {TlsStatus::Ok, n};
  return result(ret);
}

TlsResult TlsChannel::write(const char* data, std::size_t size) {
  ERR_clear_error();
  errno = 0;
  std::size_t n = 0;
  const int ret = SSL_write_ex(ssl_, data, size, &n);
  if (ret == 1) return {TlsStatus::Ok, n};
  return result(ret);
}

void TlsChannel::shutdown() noexcept {
  if (!handshakeDone()) return;
  ERR_clear_error();
  (void)SSL_shutdown(ssl_);  // queues and tries to send close_notify; never waits
  ERR_clear_error();
}

TlsResult TlsChannel::result(int ret) {
  const int savedErrno = errno;
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      return {TlsStatus::WantRead, 0};
    case SSL_ERROR_WANT_WRITE:
      return {TlsStatus::WantWrite, 0};
    case SSL_ERROR_ZERO_RETURN:
      return {TlsStatus::Closed, 0};
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0 && savedErrno == 0) return {TlsStatus::Closed, 0};  // bare EOF
      error_ = savedErrno != 0 ? std::strerror(savedErrno) : takeOpenSslError();
      ERR_clear_error();
      return {TlsStatus::Failed, 0};
    default: {
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        error_ = std::string("certificate verification failed: ") +
                 X509_verify_cert_error_string(verify);
        ERR_clear_error();
      } else {
        error_ = takeOpenSslError();
      }
      return {TlsStatus::Failed, 0};
    }
  }
}

std::string TlsChannel::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int size = 0;
  SSL_get0_alpn_selected(ssl_, &data, &size);
  return std::string(reinterpret_cast<const char*>(data), size);
}

std::string TlsChannel::version() const {
  return SSL_get_version(ssl_);
}

int passphraseCallback(char* buffer, int size, int, void* userdata) {
  const auto* passphrase = static_cast<const std::string*>(userdata);
  if (passphrase == nullptr || passphrase->empty()) return 0;
  const int n = std::min(size, static_cast<int>(passphrase->size()));
  std::memcpy(buffer, passphrase->data(), static_cast<std::size_t>(n));
  return n;
}

std::optional<std::string> unreadableFile(const std::string& path, std::string_view kind) {
  std::ifstream file(path);
  if (file) return std::nullopt;
  return std::string(kind) + " '" + path + "' cannot be read: " + std::strerror(errno);
}

}  // namespace aerie::net
