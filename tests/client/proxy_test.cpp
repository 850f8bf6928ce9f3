// The client through a real HTTP proxy (Debian tinyproxy) on loopback: CONNECT tunnels,
// Basic proxy authentication, and the proxy taken from the environment (no_proxy too).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "aerie/aerie.hpp"
#include "support/test_server.hpp"

extern char** environ;

namespace aerie::test {
namespace {

using namespace std::chrono_literals;
constexpr const char* kTinyproxy = "/usr/bin/tinyproxy";

std::uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool accepting(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

/// tinyproxy in the foreground with its own configuration, on a free loopback port.
class Tinyproxy {
 public:
  explicit Tinyproxy(const std::string& extraConfig) {
    dir_ = std::filesystem::temp_directory_path() /
           ("aerie-tinyproxy-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_));
    std::filesystem::create_directories(dir_);
    port_ = freePort();
    const std::string config = (dir_ / "tinyproxy.conf").string();
    // No ConnectPort line: CONNECT to any port (Debian's default file allows 443/563 only).
    std::ofstream(config) << "Port " << port_ << "\nListen 127.0.0.1\nTimeout 30\n"
                          << "Allow 127.0.0.1\nLogLevel Connect\nMaxClients 20\n"
                          << "LogFile \"" << (dir_ / "log").string() << "\"\n"
                          << extraConfig;
    std::string program = kTinyproxy;
    std::string foreground = "-d";
    std::string configFlag = "-c";
    std::string configPath = config;
    char* argv[] = {program.data(), foreground.data(), configFlag.data(), configPath.data(),
                    nullptr};
    if (::posix_spawn(&pid_, kTinyproxy, nullptr, nullptr, argv, environ) != 0) pid_ = -1;
    for (int i = 0; i < 100 && pid_ > 0 && !accepting(port_); ++i)
      std::this_thread::sleep_for(20ms);
  }
  ~Tinyproxy() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::uint16_t port() const noexcept { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  bool running() const { return pid_ > 0 && accepting(port_); }
  std::string log() const {
    std::ifstream in(dir_ / "log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kTinyproxy)) {
      GTEST_SKIP() << "tinyproxy is not installed (scripts/deps.sh test)";
    }
    ws::Options options;
    options.maxFramesPerSecond = 0;
    options.maxBytesPerMinute = 0;
    server_ = std::make_unique<TestServer>(std::make_shared<RecordingHandler>(), options);
  }
  std::string serverUrl() const {
    return "ws://127.0.0.1:" + std::to_string(server_->port()) + "/tunnelled";
  }

  /// Connects with `options`, sends one message, returns its echo and where we connected.
  std::pair<std::string, std::string> roundTrip(client::ConnectOptions options) {
    std::string echo;
    std::string remote;
    aerie::run([&]() -> Task<> {
      auto connection = co_await websocket::connect(serverUrl(), options);
      remote = connection.remoteAddress();
      co_await connection.send("through the tunnel");
      auto message = co_await connection.receive();
      if (message) echo = co_await message->buffer();
      co_await connection.close();
    });
    return {echo, remote};
  }

  std::unique_ptr<TestServer> server_;
};

TEST_F(ProxyTest, ConnectTunnelCarriesTheConnection) {
  Tinyproxy proxy("");
  ASSERT_TRUE(proxy.running()) << "tinyproxy did not start:\n" << proxy.log();
  client::ConnectOptions options;
  options.proxy = proxy.url();
  const auto [echo, remote] = roundTrip(options);
  EXPECT_EQ(echo, "through the tunnel");
  EXPECT_EQ(remote, "127.0.0.1:" + std::to_string(proxy.port()));  // we talked to the proxy
  EXPECT_NE(proxy.log().find("CONNECT"), std::string::npos) << proxy.log();
}

TEST_F(ProxyTest, BasicAuthenticationIsSentAndItsAbsenceIsAClearError) {
  Tinyproxy proxy("BasicAuth alice s3cret\n");
  ASSERT_TRUE(proxy.running()) << proxy.log();
  client::ConnectOptions options;
  options.proxy = proxy.url();
  int status = 0;
  std::string what;
  aerie::run([&]() -> Task<> {
    try {
      (void)co_await websocket::connect(serverUrl(), options);
    } catch (const client::ProxyError& e) {
      status = e.status();
      what = e.what();
    }
  });
  EXPECT_EQ(status, 407) << what;
  EXPECT_NE(what.find("407"), std::string::npos) << what;

  options.proxy = "http://alice:s3cret@127.0.0.1:" + std::to_string(proxy.port());
  EXPECT_EQ(roundTrip(options).first, "through the tunnel");
}

TEST_F(ProxyTest, ProxyFromTheEnvironmentAndNoProxy) {
  Tinyproxy proxy("");
  ASSERT_TRUE(proxy.running()) << proxy.log();
  const std::string direct = "127.0.0.1:" + std::to_string(server_->port());
  const std::string viaProxy = "127.0.0.1:" + std::to_string(proxy.port());
  ::setenv("http_proxy", proxy.url().c_str(), 1);
  ::unsetenv("no_proxy");
  ::unsetenv("NO_PROXY");
  client::ConnectOptions options;
  EXPECT_EQ(roundTrip(options).second, direct) << "the environment is consulted only when asked";
  options.proxyFromEnvironment = true;
  EXPECT_EQ(roundTrip(options).second, viaProxy);
  ::setenv("no_proxy", "example.test, 127.0.0.1", 1);
  EXPECT_EQ(roundTrip(options).second, direct);
  ::unsetenv("no_proxy");
  ::unsetenv("http_proxy");
}

TEST_F(ProxyTest, AProxyThatIsNotThereIsAConnectError) {
  client::ConnectOptions options;
  options.proxy = "http://127.0.0.1:" + std::to_string(freePort());
  bool caught = false;
  aerie::run([&]() -> Task<> {
    try {
      (void)co_await websocket::connect(serverUrl(), options);
    } catch (const client::ConnectError& e) {
      caught = std::string(e.what()).find("refused") != std::string::npos;
    }
  });
  EXPECT_TRUE(caught);
}

}  // namespace
}  // namespace aerie::test
