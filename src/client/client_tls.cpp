#include "client/client_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <map>

#include "aerie/client/errors.hpp"

namespace aerie::client::detail {
namespace {

void checkReadable(const std::string& path, const char* what) {
  if (path.empty()) return;
  if (auto reason = net::unreadableFile(path, what)) throw InvalidArgument("TLS: " + *reason);
}

std::shared_ptr<net::TlsContext> makeContext(const TlsOptions& options) {
  checkReadable(options.caFile, "CA file");
  checkReadable(options.certificateFile, "certificate file");
  checkReadable(options.privateKeyFile, "private key file");
  SSL_CTX* raw = SSL_CTX_new(TLS_client_method());
  if (raw == nullptr) throw Error("TLS: cannot create a context: " + net::takeOpenSslError());
  auto context = std::make_shared<net::TlsContext>(raw);
  net::applyCommonSettings(raw);
  if (!options.caFile.empty() || !options.caDirectory.empty()) {
    if (SSL_CTX_load_verify_locations(
            raw, options.caFile.empty() ? nullptr : options.caFile.c_str(),
            options.caDirectory.empty() ? nullptr : options.caDirectory.c_str()) != 1) {
      throw InvalidArgument("TLS: cannot load the CAs from '" + options.caFile +
                            options.caDirectory + "': " + net::takeOpenSslError());
    }
  } else if (SSL_CTX_set_default_verify_paths(raw) != 1) {
    throw Error("TLS: cannot load the system CA store: " + net::takeOpenSslError());
  }
  if (!options.certificateFile.empty()) {
    if (SSL_CTX_use_certificate_chain_file(raw, options.certificateFile.c_str()) != 1) {
      throw InvalidArgument("TLS: certificate file '" + options.certificateFile +
                            "' cannot be used: " + net::takeOpenSslError());
    }
    SSL_CTX_set_default_passwd_cb(raw, net::passphraseCallback);
    SSL_CTX_set_default_passwd_cb_userdata(raw,
                                           const_cast<std::string*>(&options.privateKeyPassphrase));
    const std::string& key =
        options.privateKeyFile.empty() ? options.certificateFile : options.privateKeyFile;
    const int loaded = SSL_CTX_use_PrivateKey_file(raw, key.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_set_default_passwd_cb_userdata(raw, nullptr);
    if (loaded != 1 || SSL_CTX_check_private_key(raw) != 1) {
      throw InvalidArgument("TLS: private key '" + key + "' cannot be used with '" +
                            options.certificateFile + "': " + net::takeOpenSslError());
    }
  }
  std::string alpn;  // wire format: length-prefixed names
  for (const std::string& protocol : options.alpn) {
    if (protocol.empty() || protocol.size() > 255) continue;
    alpn += static_cast<char>(protocol.size());
    alpn += protocol;
  }
  if (!alpn.empty()) {
    SSL_CTX_set_alpn_protos(raw, reinterpret_cast<const unsigned char*>(alpn.data()),
                            static_cast<unsigned>(alpn.size()));
  }
  // No session resumption yet: every wss:// connect is a full handshake (docs/STATUS.md).
  return context;
}

}  // namespace

std::shared_ptr<net::TlsContext> clientTlsContext(const TlsOptions& options) {
  // Verification itself (on/off, the name) is per connection; the context holds what is
  // loaded from files, so those and the ALPN list make the key.
  std::string key = options.caFile + '\n' + options.caDirectory + '\n' + options.certificateFile +
                    '\n' + options.privateKeyFile + '\n' + options.privateKeyPassphrase + '\n';
  for (const std::string& protocol : options.alpn)
    key += protocol + ',';
  thread_local std::map<std::string, std::shared_ptr<net::TlsContext>> cache;
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto context = makeContext(options);
  if (cache.size() >= 16) cache.clear();  // a bounded cache: callers rarely vary options
  cache.emplace(std::move(key), context);
  return context;
}

Task<> tlsHandshake(asio::ip::tcp::socket& socket, net::TlsChannel& tls, const Deadline& deadline,
                    std::string what) {
  while (true) {
    const net::TlsResult r = tls.handshake();
    if (r.status == net::TlsStatus::Ok) co_return;
    if (r.status == net::TlsStatus::Closed) {
      throw TlsError(what + ": the server closed the connection during the TLS handshake");
    }
    if (r.status == net::TlsStatus::Failed) throw TlsError(what + ": " + tls.error());
    if (deadline.expired()) throw TimeoutError(what + ": timed out");
    const std::error_code error = co_await WaitAwaiter{socket,
                                                       r.status == net::TlsStatus::WantRead
                                                           ? asio::ip::tcp::socket::wait_read
                                                           : asio::ip::tcp::socket::wait_write,
                                                       {}};
    if (deadline.expired()) throw TimeoutError(what + ": timed out");
    if (error) throw TlsError(what + ": " + error.message());
  }
}

}  // namespace aerie::client::detail
