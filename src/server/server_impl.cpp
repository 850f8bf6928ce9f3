#include "server/server_impl.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <asio/signal_set.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
#include <future>
#include <stdexcept>
#include <thread>

#include "aerie/core/delay.hpp"
#include "aerie/http/headers.hpp"
#include "core/log.hpp"
#include "server/connection.hpp"
#include "server/http_session.hpp"
#include "server/server_tls.hpp"
#include "server/worker.hpp"

namespace aerie::detail {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

/// Opens a listening TCP socket (SO_REUSEPORT so every worker can have its own).
int listenTcp(const ListenAddress& address, std::uint16_t port, int backlog) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address.address.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  } else {
    std::string host = address.address;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) {
      throw std::runtime_error("invalid listen address '" + address.address +
                               "' (an IPv4 or IPv6 literal is expected)");
    }
    family = AF_INET6;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  }
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    fail("cannot listen on " + address.address + ":" + std::to_string(port));
  }
  if (::listen(fd, backlog) != 0) {
    ::close(fd);
    fail("listen");
  }
  return fd;
}

int listenUnix(const std::string& path, int backlog) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path)
    throw std::runtime_error("unix socket path too long: " + path);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    fail("cannot listen on unix:" + path);
  }
  if (::listen(fd, backlog) != 0) {
    ::close(fd);
    fail("listen");
  }
  return fd;
}

std::uint16_t boundPort(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length);
  if (storage.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in&>(storage).sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6&>(storage).sin6_port);
}

/// The signals run() takes: SIGINT/SIGTERM stop the server gracefully, SIGHUP reloads the
/// TLS certificates (blocked from start() to run() too, so it cannot kill the process).
sigset_t stopSignals() noexcept {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

/// Runs `f` on `worker`'s thread and waits for it.
template <class F>
void runOn(Worker& worker, F f) {
  std::promise<void> done;
  worker.loop().post([&] {
    f();
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace

ServerImpl::ServerImpl(Server& facade, Host host, ServerOptions options)
    : facade_(facade), host_(std::move(host)), options_(options) {
  if (options_.workers == 0) options_.workers = std::max(1u, std::thread::hardware_concurrency());
  for (const Responder& responder : host_.responders()) {
    for (const auto& observer : responder.observers())
      observers_.push_back(observer);
  }
}

ServerImpl::~ServerImpl() {
  if (state() != Server::State::Stopped) stop();
}

void ServerImpl::start() {
  if (state() != Server::State::Stopped || stopped_)
    throw std::logic_error("server already started");
  if (host_.addresses().empty())
    throw std::runtime_error("the host exposes no address (Host::expose)");
  if (host_.responders().empty()) throw std::runtime_error("the host has no responder (Host::use)");
  // The server writes these into every response head without checking them again.
  if (options_.serverToken != nullptr && !http::isValidFieldValue(options_.serverToken)) {
    throw std::invalid_argument("ServerOptions::serverToken is not a valid header value");
  }
  if (!http::isValidFieldValue(options_.defaultContentType)) {
    throw std::invalid_argument("ServerOptions::defaultContentType is not a valid header value");
  }
  if (host_.encrypted()) {
    auto tls = ServerTls::load(host_.certificates());  // a bad file is a start-up error
    log::info("TLS: {}", tls->summary());
    std::lock_guard lock(tlsMutex_);
    tls_ = std::move(tls);
  }
  state_ = Server::State::Starting;
  for (unsigned i = 0; i < options_.workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(*this, i));
  }
  try {
    openListeners();
  } catch (...) {
    workers_.clear();
    state_ = Server::State::Stopped;
    throw;
  }
  for (const auto& observer : observers_)
    observer->onServerStarting(facade_);
  if (options_.handleSignals) {
    // Block SIGINT/SIGTERM here (workers inherit the mask) until run() takes them: one
    // that arrives between start() and run() stays pending instead of killing the process.
    const sigset_t blocked = stopSignals();
    pthread_sigmask(SIG_BLOCK, &blocked, &savedSignalMask_);
    signalsBlocked_ = true;
  }
  for (auto& worker : workers_)
    worker->startThread();
  state_ = Server::State::Started;
}

void ServerImpl::openListeners() {
  for (const ListenAddress& address : host_.addresses()) {
    if (address.isUnix()) {
      // Unix sockets have no SO_REUSEPORT balancing: worker 0 accepts for all.
      workers_[0]->addListener(listenUnix(address.address, options_.socketBacklog), true);
      bound_.push_back("unix:" + address.address);
      continue;
    }
    std::uint16_t port = address.port;
    for (auto& worker : workers_) {
      const int fd = listenTcp(address, port, options_.socketBacklog);
      if (port == 0) port = boundPort(fd);  // port 0: the kernel's choice for all
      worker->addListener(fd, false);
    }
    const bool v6 = address.address.find(':') != std::string::npos;
    std::string host = address.address;
    if (v6 && host.front() != '[') host = "[" + host + "]";
    bound_.push_back(host + ":" + std::to_string(port));
  }
}

std::vector<std::string> ServerImpl::boundAddresses() const {
  return bound_;
}

std::string ServerImpl::ipKey(const std::string& ip) const {
  // IPv6 clients are counted per /56, the smallest block commonly given to one subscriber.
  if (ip.find(':') == std::string::npos) return ip;
  in6_addr addr{};
  if (inet_pton(AF_INET6, ip.c_str(), &addr) != 1) return ip;
  std::memset(addr.s6_addr + 7, 0, 9);
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &addr, text, sizeof text);
  return std::string(text) + "/56";
}

void ServerImpl::accepted(Worker& worker, int fd, net::PeerAddress peer) {
  const char* refusal = nullptr;
  const std::string remoteIp = peer.ip();
  if (state() != Server::State::Started) {
    refusal = "server stopping";
  } else if (connections_.load(std::memory_order_relaxed) >= options_.maxConnections) {
    refusal = "maxConnections reached";
  } else if (remoteIp != "unix") {
    std::lock_guard lock(perIpMutex_);
    std::size_t& count = perIp_[ipKey(remoteIp)];
    if (count >= options_.connectionsPerIp) {
      refusal = "connectionsPerIp reached";
    } else {
      ++count;
    }
  }
  if (refusal != nullptr) {
    log::warn("refusing {}: {} (503)", peer.text(), refusal);
    static constexpr std::string_view response =
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    [[maybe_unused]] auto n = ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    ::close(fd);
    return;
  }
  std::shared_ptr<ServerTls> tls;
  if (host_.encrypted()) {
    std::lock_guard lock(tlsMutex_);
    tls = tls_;
  }
  std::unique_ptr<net::TlsChannel> channel;
  if (tls) {
    channel = net::TlsChannel::accept(tls->defaultContext(), fd);
    if (!channel) {
      log::error("refusing {}: cannot create a TLS session: {}", peer.text(),
                 net::takeOpenSslError());
      ::close(fd);
      connectionClosedFor(remoteIp);
      return;
    }
  }
  connections_.fetch_add(1, std::memory_order_relaxed);
  auto* connection = new Connection(worker, fd, peer);
  if (channel) connection->enableTls(std::move(channel), std::move(tls));
  connection->setSession(std::make_unique<HttpSession>(*this, *connection));
  connection->resumeReading();
}

void ServerImpl::connectionClosed(Connection& connection) {
  connections_.fetch_sub(1, std::memory_order_relaxed);
  connectionClosedFor(connection.peer().ip());
}

void ServerImpl::connectionClosedFor(const std::string& remoteIp) {
  if (remoteIp == "unix") return;
  std::lock_guard lock(perIpMutex_);
  auto it = perIp_.find(ipKey(remoteIp));
  if (it != perIp_.end() && --it->second == 0) perIp_.erase(it);
}

void ServerImpl::reloadTls() {
  if (!host_.encrypted()) return;
  auto tls = ServerTls::load(host_.certificates());
  const std::string summary = tls->summary();
  {
    std::lock_guard lock(tlsMutex_);
    tls_ = std::move(tls);
  }
  log::info("TLS certificates reloaded: {}", summary);  // after the swap: it is in force
}

void ServerImpl::stop() {
  {
    std::unique_lock lock(stateMutex_);
    if (stopRequested_) {
      stateChanged_.wait(lock, [this] { return stopped_; });
      return;
    }
    stopRequested_ = true;
  }
  if (state() == Server::State::Started) stopSequence();
  {
    std::lock_guard lock(stateMutex_);
    stopped_ = true;
  }
  state_ = Server::State::Stopped;
  stateChanged_.notify_all();
}

void ServerImpl::stopSequence() {
  state_ = Server::State::Stopping;
  for (auto& worker : workers_)
    runOn(*worker, [&] { worker->closeListeners(); });

  // onStop of every websocket application, on worker 0's loop; wait for its task, at most
  // shutdownTimeout (an onStop awaiting a client that never drains must not hang the stop).
  for (const auto& observer : observers_) {
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    workers_[0]->loop().post([observer, done] {
      auto onDone = [](void* context, std::uint64_t, std::exception_ptr error) noexcept {
        std::unique_ptr<std::shared_ptr<std::promise<void>>> promise(
            static_cast<std::shared_ptr<std::promise<void>>*>(context));
        if (error) {
          try {
            std::rethrow_exception(error);
          } catch (const LoopStopping&) {
          } catch (const std::exception& e) {
            log::error("onStop failed: {}", e.what());
          } catch (...) {
            log::error("onStop failed with an unknown exception");
          }
        }
        (*promise)->set_value();
      };
      observer->onServerStopping().start(onDone, new std::shared_ptr<std::promise<void>>(done));
    });
    if (finished.wait_for(options_.shutdownTimeout) != std::future_status::ready) {
      log::warn("onStop did not finish within the shutdown timeout ({} ms); closing clients anyway",
                options_.shutdownTimeout.count());
    }
  }

  // Close every client: websockets with 1001 and a close handshake, HTTP after the
  // response in progress.
  for (auto& worker : workers_) {
    runOn(*worker, [&] {
      worker->forEachConnection([](Connection& c) {
        if (Session* session = c.session()) session->shutdownGracefully();
      });
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.shutdownTimeout;
  while (connections_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& worker : workers_) {
    runOn(*worker, [&] { worker->forEachConnection([](Connection& c) { c.close(); }); });
  }
  for (auto& worker : workers_)
    worker->stopLoop();
  for (auto& worker : workers_)
    worker->join();
  for (const ListenAddress& address : host_.addresses()) {
    if (address.isUnix()) ::unlink(address.address.c_str());
  }
}

void ServerImpl::wait() {
  std::unique_lock lock(stateMutex_);
  stateChanged_.wait(lock, [this] { return stopped_; });
}

int ServerImpl::run() {
  try {
    if (state() == Server::State::Stopped) start();  // run() after start() just serves
  } catch (const std::exception& e) {
    log::error("cannot start: {}", e.what());
    return 1;
  }
  if (options_.handleSignals) {
    // Signals are taken on this (the control) thread; the stop sequence runs here too.
    asio::io_context control;
    asio::signal_set signals(control, SIGINT, SIGTERM);
    signals.add(SIGHUP);
    std::function<void(const std::error_code&, int)> onSignal = [&](const std::error_code& error,
                                                                    int signal) {
      if (error) return;
      if (signal == SIGHUP) {
        try {
          reloadTls();
        } catch (const std::exception& e) {
          log::error("SIGHUP: certificates not reloaded, the old ones stay: {}", e.what());
        }
        if (!host_.encrypted()) log::info("SIGHUP: nothing to reload (no TLS)");
        signals.async_wait(onSignal);
        return;
      }
      log::info("received {}: stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
      control.stop();
    };
    signals.async_wait(onSignal);
    if (signalsBlocked_) {
      // Asio's handler is installed: let pending and new signals reach it.
      pthread_sigmask(SIG_SETMASK, &savedSignalMask_, nullptr);
      signalsBlocked_ = false;
    }
    std::thread watcher([&] {
      wait();
      control.stop();
    });
    control.run();
    stop();
    watcher.join();
    // A repeated SIGINT/SIGTERM (a supervisor insisting) must not kill the process in the
    // middle of its exit once asio's handler is gone: keep both blocked in this thread
    // (the workers have ended), so such a signal stays pending and the exit code is 0.
    const sigset_t blocked = stopSignals();
    pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  } else {
    wait();
  }
  return 0;
}

}  // namespace aerie::detail
