#include "server/server_tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace aerie::detail {
namespace {

[[noreturn]] void fail(const std::string& what) {
  ERR_clear_error();
  throw std::runtime_error("TLS: " + what);
}

void checkReadable(const std::string& path, const char* kind) {
  if (auto reason = net::unreadableFile(path, kind)) fail(*reason);
}

// ALPN: http/1.1 is what we speak (h2 would be added here). A client offering neither gets
// no ALPN answer rather than a failed handshake.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outSize, const unsigned char* in,
               unsigned int inSize, void*) {
  static const unsigned char kOurs[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outSize, kOurs, sizeof kOurs, in, inSize) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

std::string describe(X509* certificate) {
  char subject[256] = {};
  X509_NAME_oneline(X509_get_subject_name(certificate), subject, sizeof subject);
  std::string text = subject;
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio != nullptr && ASN1_TIME_print(bio, X509_get0_notAfter(certificate)) == 1) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    text += " (valid until " + std::string(data, static_cast<std::size_t>(size)) + ")";
  }
  BIO_free(bio);
  return text;
}

}  // namespace

std::shared_ptr<ServerTls> ServerTls::load(const std::vector<TlsCertificate>& certificates) {
  std::shared_ptr<ServerTls> tls(new ServerTls());
  for (const TlsCertificate& certificate : certificates) {
    checkReadable(certificate.certificateFile, "certificate file");
    checkReadable(certificate.privateKeyFile, "private key file");
    SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
    if (raw == nullptr) fail("cannot create a context: " + net::takeOpenSslError());
    auto context = std::make_unique<net::TlsContext>(raw);
    net::applyCommonSettings(raw);
    if (SSL_CTX_use_certificate_chain_file(raw, certificate.certificateFile.c_str()) != 1) {
      fail("certificate file '" + certificate.certificateFile +
           "' holds no usable PEM certificate: " + net::takeOpenSslError());
    }
    SSL_CTX_set_default_passwd_cb(raw, net::passphraseCallback);
    SSL_CTX_set_default_passwd_cb_userdata(raw, const_cast<std::string*>(&certificate.passphrase));
    const int keyLoaded =
        SSL_CTX_use_PrivateKey_file(raw, certificate.privateKeyFile.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_set_default_passwd_cb_userdata(raw, nullptr);  // the string does not outlive us
    if (keyLoaded != 1) {
      const unsigned long code = ERR_peek_last_error();
      if (ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) {
        fail("private key '" + certificate.privateKeyFile + "' does not match certificate '" +
             certificate.certificateFile + "'");
      }
      fail("private key file '" + certificate.privateKeyFile +
           "' cannot be used (not a PEM key, or a wrong/missing passphrase): " +
           net::takeOpenSslError());
    }
    if (SSL_CTX_check_private_key(raw) != 1) {
      fail("private key '" + certificate.privateKeyFile + "' does not match certificate '" +
           certificate.certificateFile + "'");
    }
    SSL_CTX_set_alpn_select_cb(raw, selectAlpn, nullptr);
    if (!tls->summary_.empty()) tls->summary_ += "; ";
    tls->summary_ += describe(SSL_CTX_get0_certificate(raw));
    tls->contexts_.push_back(std::move(context));
  }
  if (tls->contexts_.empty()) fail("no certificate");
  // The first context receives every handshake; its callback may switch to another.
  if (tls->contexts_.size() > 1) {
    SSL_CTX_set_tlsext_servername_callback(tls->defaultContext(), onServerName);
    SSL_CTX_set_tlsext_servername_arg(tls->defaultContext(), tls.get());
  }
  return tls;
}

int ServerTls::onServerName(SSL* ssl, int*, void* self) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;  // no SNI: the default certificate
  const auto* tls = static_cast<const ServerTls*>(self);
  for (const auto& context : tls->contexts_) {
    X509* certificate = SSL_CTX_get0_certificate(context->get());
    if (certificate != nullptr && X509_check_host(certificate, name, 0, 0, nullptr) == 1) {
      if (context->get() != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, context->get());
      break;
    }
  }
  return SSL_TLSEXT_ERR_OK;  // an unknown name gets the default certificate
}

}  // namespace aerie::detail
