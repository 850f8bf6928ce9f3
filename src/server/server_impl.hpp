// The server's internals, shared by workers, sessions and websocket applications.
#pragma once

#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "aerie/server/server.hpp"
#include "net/peer_address.hpp"

namespace aerie::detail {

class Worker;
class Connection;
class ServerTls;

class ServerImpl {
 public:
  ServerImpl(Server& facade, Host host, ServerOptions options);
  ~ServerImpl();

  void start();
  void stop();
  void wait();
  int run();

  Server& facade() noexcept { return facade_; }
  const Host& host() const noexcept { return host_; }
  const ServerOptions& options() const noexcept { return options_; }
  Server::State state() const noexcept { return state_.load(std::memory_order_acquire); }
  std::vector<std::string> boundAddresses() const;
  unsigned workerCount() const noexcept { return static_cast<unsigned>(workers_.size()); }
  Worker& worker(unsigned index) noexcept { return *workers_[index]; }

  /// A new socket on `worker`: applies connection limits, then starts an HTTP session.
  void accepted(Worker& worker, int fd, net::PeerAddress peer);
  void connectionClosed(Connection& connection);
  /// Host::encrypt()'s certificates, read again (SIGHUP); throws and keeps the old ones.
  void reloadTls();

 private:
  void openListeners();
  void stopSequence();
  std::string ipKey(const std::string& ip) const;
  /// The per-IP count of a connection that ended (or was never made).
  void connectionClosedFor(const std::string& remoteIp);

  Server& facade_;
  Host host_;
  ServerOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::shared_ptr<ServerObserver>> observers_;
  std::vector<std::string> bound_;
  std::atomic<Server::State> state_{Server::State::Stopped};
  std::atomic<std::size_t> connections_{0};
  std::mutex perIpMutex_;
  std::unordered_map<std::string, std::size_t> perIp_;
  std::mutex tlsMutex_;
  std::shared_ptr<ServerTls> tls_;  // null: plain TCP
  std::mutex stateMutex_;
  std::condition_variable stateChanged_;
  bool stopRequested_ = false;
  bool stopped_ = false;
  sigset_t savedSignalMask_{};
  bool signalsBlocked_ = false;
};

}  // namespace aerie::detail
