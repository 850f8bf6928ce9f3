// The connect phase's asynchronous steps as awaitables (resolve, TCP connect, wait for
// readiness) and a Deadline that cancels whatever it guards when a timeout runs out.
// Only for connect(): an established connection is driven by ClientSession.
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <coroutine>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "aerie/client/connect_options.hpp"
#include "aerie/core/task.hpp"
#include "net/loop.hpp"
#include "net/tls.hpp"

namespace aerie::client::detail {

/// Cancels the guarded socket/resolver when `timeout` runs out; expired() tells a
/// cancellation by the deadline from other errors.
class Deadline {
 public:
  Deadline(net::Loop& loop, std::chrono::milliseconds timeout);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void guard(asio::ip::tcp::socket* socket) noexcept { state_->socket = socket; }
  void guard(asio::ip::tcp::resolver* resolver) noexcept { state_->resolver = resolver; }
  bool expired() const noexcept { return state_->expired; }

 private:
  struct State {
    explicit State(asio::io_context& io) : timer(io) {}
    asio::steady_timer timer;
    asio::ip::tcp::socket* socket = nullptr;
    asio::ip::tcp::resolver* resolver = nullptr;
    bool expired = false;
  };
  std::shared_ptr<State> state_;  // shared with the timer's handler, which may run later
};

/// co_await: resolves host:port; the error is in `error` afterwards.
struct ResolveAwaiter {
  asio::ip::tcp::resolver& resolver;
  std::string host;
  std::string port;
  std::error_code error;
  asio::ip::tcp::resolver::results_type results;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiting) {
    resolver.async_resolve(
        host, port,
        [this, awaiting](const std::error_code& e, asio::ip::tcp::resolver::results_type r) {
          error = e;
          results = std::move(r);
          awaiting.resume();
        });
  }
  std::error_code await_resume() const noexcept { return error; }
};

/// co_await: connects `socket` (already open) to `endpoint`.
struct ConnectAwaiter {
  asio::ip::tcp::socket& socket;
  asio::ip::tcp::endpoint endpoint;
  std::error_code error;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiting) {
    socket.async_connect(endpoint, [this, awaiting](const std::error_code& e) {
      error = e;
      awaiting.resume();
    });
  }
  std::error_code await_resume() const noexcept { return error; }
};

/// co_await: waits until `socket` is readable/writable.
struct WaitAwaiter {
  asio::ip::tcp::socket& socket;
  asio::ip::tcp::socket::wait_type type;
  std::error_code error;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiting) {
    socket.async_wait(type, [this, awaiting](const std::error_code& e) {
      error = e;
      awaiting.resume();
    });
  }
  std::error_code await_resume() const noexcept { return error; }
};

/// The resolved addresses to try, in order: duplicates removed, filtered and ordered by
/// `family` (stable within a family, so the resolver's RFC 6724 order is kept).
std::vector<asio::ip::tcp::endpoint> orderEndpoints(std::vector<asio::ip::tcp::endpoint> resolved,
                                                    AddressFamily family);

/// Writes all of `data` to the non-blocking `socket`. Throws TimeoutError when `deadline`
/// cancelled the wait, ConnectError for other failures; `what` names the step.
/// With `tls`, through it (the handshake done).
Task<> writeAll(asio::ip::tcp::socket& socket, std::string data, const Deadline& deadline,
                std::string what, net::TlsChannel* tls = nullptr);

/// Reads what is available (waiting for at least one byte) and appends it to `out`.
/// Returns false on EOF. Throws like writeAll().
Task<bool> readSome(asio::ip::tcp::socket& socket, std::string& out, const Deadline& deadline,
                    std::string what, net::TlsChannel* tls = nullptr);

}  // namespace aerie::client::detail
