// TLS end to end in one process: an aerie server with Host::encrypt() and the aerie client
// over wss://, with certificates made at test time by tests/support/make_test_certs.sh
// (a throwaway CA; server, other.test, expired, wrong-name and self-signed certificates).
// Verification failures must name the check that failed; SNI picks the certificate; a
// reload swaps certificates for new connections only; hostile clients (plain HTTP on the
// TLS port, a stalled handshake) are closed without disturbing anyone.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "aerie/aerie.hpp"
#include "support/test_server.hpp"

namespace aerie::test {
namespace {

using namespace std::chrono_literals;

/// This process's certificates, made once in a fresh temporary directory that is removed
/// at exit (CI runs this binary once per test case).
class CertificateDirectory {
 public:
  CertificateDirectory() {
    char pattern[] = "/tmp/aerie-tls-test-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
    const std::string command =
        std::string(AERIE_TEST_SUPPORT_DIR) + "/make_test_certs.sh " + path_;
    if (std::system(command.c_str()) != 0) throw std::runtime_error("make_test_certs.sh failed");
  }
  ~CertificateDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  CertificateDirectory(const CertificateDirectory&) = delete;
  CertificateDirectory& operator=(const CertificateDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string& certs() {
  static const CertificateDirectory directory;
  return directory.path();
}

std::string cert(const std::string& name) {
  return certs() + "/" + name + ".pem";
}
std::string key(const std::string& name) {
  return certs() + "/" + name + ".key";
}

/// An echo server over TLS with the given certificates (name: server, other, expired...).
class TlsServer {
 public:
  explicit TlsServer(std::vector<std::string> names, ServerOptions options = {}) {
    handler_ = std::make_shared<RecordingHandler>();
    ws::Options ws;
    ws.maxFramesPerSecond = 0;
    ws.maxBytesPerMinute = 0;
    Host host;
    host.expose("127.0.0.1", 0).use(websocket(handler_, ws));
    for (const std::string& name : names)
      host.encrypt(cert(name), key(name));
    options.workers = 1;
    options.handleSignals = false;
    server_ = std::make_unique<Server>(std::move(host), options);
    server_->start();
    port_ = boundPort(*server_);
  }
  ~TlsServer() { server_->stop(); }
  std::uint16_t port() const { return port_; }
  Server& server() { return *server_; }
  std::string url(const std::string& host = "localhost") const {
    return "wss://" + host + ":" + std::to_string(port_) + "/";
  }

 private:
  std::shared_ptr<RecordingHandler> handler_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

client::ConnectOptions trusting(const std::string& caFile) {
  client::ConnectOptions options;
  options.tls.caFile = caFile;
  return options;
}

/// Connects and echoes one message; returns "" on success, else the error text.
std::string tryEcho(const std::string& url, client::ConnectOptions options) {
  std::string outcome;
  aerie::run([&]() -> Task<> {
    try {
      auto connection = co_await websocket::connect(url, options);
      co_await connection.send("over TLS");
      auto message = co_await connection.receive();
      std::string echo;  // not `message ? co_await ... : ...`: GCC 12 miscompiles that
      if (message) echo = co_await message->buffer();
      if (echo != "over TLS") outcome = "echo differs: '" + echo + "'";
      co_await connection.close();
    } catch (const client::TlsError& e) {
      outcome = std::string("TlsError: ") + e.what();
    } catch (const std::exception& e) {
      outcome = std::string("other error: ") + e.what();
    }
  });
  return outcome;
}

TEST(Tls, EchoOverWssWithTheTestCaByNameAndByAddress) {
  TlsServer server({"server"});
  EXPECT_EQ(tryEcho(server.url("localhost"), trusting(cert("ca"))), "");
  EXPECT_EQ(tryEcho(server.url("127.0.0.1"), trusting(cert("ca"))), "");
}

TEST(Tls, LargeMessagesAndCompressionCrossTls) {
  TlsServer server({"server"});
  std::string big(1536 * 1024 + 7, 'x');  // under the default 2 MiB message limit
  for (std::size_t i = 0; i < big.size(); i += 4096)
    big[i] = static_cast<char>('a' + i % 26);
  std::string echo;
  std::string extensions;
  aerie::run([&]() -> Task<> {
    auto connection = co_await websocket::connect(server.url(), trusting(cert("ca")));
    extensions = connection.getInfo().extensions;
    co_await connection.sendBinary(big);
    if (auto message = co_await connection.receive()) echo = co_await message->buffer();
    co_await connection.close();
  });
  EXPECT_TRUE(echo == big) << echo.size();
  EXPECT_EQ(extensions.find("permessage-deflate"), 0u) << extensions;
}

TEST(Tls, VerificationFailuresNameTheCheck) {
  struct Case {
    std::string certificate;
    std::string host;
    std::string ca;
    std::string expected;
  };
  for (const Case& c : {Case{"expired", "localhost", cert("ca"), "expired"},
                        Case{"wrongname", "localhost", cert("ca"), "hostname mismatch"},
                        Case{"selfsigned", "localhost", cert("ca"), "self-signed"},
                        Case{"server", "localhost", "", "unable to get local issuer"}}) {
    TlsServer server({c.certificate});
    const std::string outcome =
        tryEcho("wss://" + c.host + ":" + std::to_string(server.port()) + "/", trusting(c.ca));
    EXPECT_EQ(outcome.rfind("TlsError: ", 0), 0u) << c.certificate << ": " << outcome;
    EXPECT_NE(outcome.find("certificate verification failed"), std::string::npos) << outcome;
    EXPECT_NE(outcome.find(c.expected), std::string::npos) << c.certificate << ": " << outcome;
  }
}

TEST(Tls, InsecureSkipsVerificationOnlyWhenAsked) {
  TlsServer server({"selfsigned"});
  client::ConnectOptions insecure;
  insecure.tls.insecureSkipVerification = true;
  EXPECT_EQ(tryEcho(server.url(), insecure), "");
  EXPECT_NE(tryEcho(server.url(), {}), "");
}

TEST(Tls, SniPicksTheCertificateWhoseNameMatches) {
  TlsServer server({"server", "other"});
  client::ConnectOptions other = trusting(cert("ca"));
  other.tls.serverName = "other.test";  // SNI and the name verified: only other.pem has it
  EXPECT_EQ(tryEcho(server.url("127.0.0.1"), other), "");
  EXPECT_EQ(tryEcho(server.url("localhost"), trusting(cert("ca"))), "") << "the default";
}

TEST(Tls, StartUpErrorsNameTheFile) {
  auto startWith = [](const std::string& certificate, const std::string& privateKey) {
    Host host;
    host.expose("127.0.0.1", 0).use(websocket(std::make_shared<RecordingHandler>()));
    host.encrypt(certificate, privateKey);
    ServerOptions options;
    options.handleSignals = false;
    Server server(std::move(host), options);
    try {
      server.start();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    server.stop();
    return std::string("started");
  };
  EXPECT_NE(startWith("/nonexistent.pem", key("server")).find("/nonexistent.pem"),
            std::string::npos);
  EXPECT_NE(startWith(cert("server"), key("other")).find("does not match"), std::string::npos);
  EXPECT_NE(startWith(key("server"), key("server")).find("no usable PEM certificate"),
            std::string::npos);
  EXPECT_EQ(startWith(cert("server"), key("server")), "started");
}

TEST(Tls, ReloadServesNewConnectionsWithTheNewFilesAndKeepsOpenOnes) {
  // A copy the test can overwrite, as an operator renewing a certificate would.
  const std::string live = certs() + "/live";
  std::filesystem::create_directories(live);
  std::filesystem::copy_file(cert("server"), live + "/cert.pem",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(key("server"), live + "/key.pem",
                             std::filesystem::copy_options::overwrite_existing);
  auto handler = std::make_shared<RecordingHandler>();
  Host host;
  host.expose("127.0.0.1", 0).use(websocket(handler));
  host.encrypt(live + "/cert.pem", live + "/key.pem");
  ServerOptions options;
  options.workers = 1;
  options.handleSignals = false;
  Server server(std::move(host), options);
  server.start();
  const std::string url = "wss://localhost:" + std::to_string(boundPort(server)) + "/";

  std::string before;
  std::string after;
  std::string oldConnectionEcho;
  aerie::run([&]() -> Task<> {
    auto open = co_await websocket::connect(url, trusting(cert("ca")));
    std::filesystem::copy_file(cert("expired"), live + "/cert.pem",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(key("expired"), live + "/key.pem",
                               std::filesystem::copy_options::overwrite_existing);
    server.reloadCertificates();
    try {
      (void)co_await websocket::connect(url, trusting(cert("ca")));
      after = "connected";
    } catch (const client::TlsError& e) {
      after = e.what();
    }
    co_await open.send("still here");
    if (auto message = co_await open.receive()) oldConnectionEcho = co_await message->buffer();
    co_await open.close();
  });
  EXPECT_NE(after.find("expired"), std::string::npos) << after;
  EXPECT_EQ(oldConnectionEcho, "still here");
  // A broken file keeps the old certificates.
  std::filesystem::remove(live + "/key.pem");
  EXPECT_THROW(server.reloadCertificates(), std::runtime_error);
  server.stop();
}

/// A raw TCP connection to the server (blocking, with a receive timeout).
int rawConnect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

TEST(Tls, PlainHttpOnTheTlsPortIsClosedAndOthersAreServed) {
  TlsServer server({"server"});
  const int fd = rawConnect(server.port());
  ASSERT_GE(fd, 0);
  const std::string request = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  char buffer[512];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
  }
  EXPECT_EQ(n, 0) << "closed (not timed out)";
  ::close(fd);
  EXPECT_EQ(tryEcho(server.url(), trusting(cert("ca"))), "");
}

TEST(Tls, AStalledHandshakeIsDroppedAtTheHeaderTimeout) {
  ServerOptions options;
  options.headerTimeout = 600ms;
  TlsServer server({"server"}, options);
  const int fd = rawConnect(server.port());
  ASSERT_GE(fd, 0);
  const std::string partial("\x16\x03\x01", 3);  // the start of a ClientHello, then silence
  ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
  const auto started = std::chrono::steady_clock::now();
  char buffer[64];
  const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(n, 0) << "the server closed the connection";
  EXPECT_LT(waited, 8s);
  ::close(fd);
  EXPECT_EQ(tryEcho(server.url(), trusting(cert("ca"))), "");
}

}  // namespace
}  // namespace aerie::test
