// The server: worker threads, listeners, lifecycle (STARTING -> STARTED -> STOPPING ->
// STOPPED) and graceful stop on SIGINT/SIGTERM.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aerie/server/host.hpp"
#include "aerie/server/options.hpp"

namespace aerie {

namespace detail {
class ServerImpl;
}

class Server {
 public:
  enum class State { Stopped, Starting, Started, Stopping };

  explicit Server(Host host, ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Starts, serves until stop() or SIGINT/SIGTERM, stops gracefully. Returns the process
  /// exit code (0 after a graceful stop, 1 if the server could not start).
  int run();

  /// Starts listening and returns (workers run in background threads). Throws
  /// std::runtime_error with the reason if a listener cannot be opened.
  void start();
  /// Graceful stop from any thread: onStop, close clients with 1001, join workers.
  void stop();
  /// Blocks until the server stopped (after start()).
  void wait();
  /// Reads the Host::encrypt() certificates again; new connections use them, open ones keep
  /// theirs. run() calls it on SIGHUP. Throws std::runtime_error (and keeps the old ones)
  /// when a file cannot be used.
  void reloadCertificates();

  State state() const noexcept;
  /// "127.0.0.1:8080", "[::1]:8080" or "unix:/path" for every listener, once started.
  std::vector<std::string> boundAddresses() const;
  const ServerOptions& options() const noexcept;
  unsigned workerCount() const noexcept;

  detail::ServerImpl& impl() noexcept { return *impl_; }

 private:
  std::unique_ptr<detail::ServerImpl> impl_;
};

}  // namespace aerie
