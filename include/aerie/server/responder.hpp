// A responder is a coroutine (Request&, Response&) -> Task<>: a route's action, a Router,
// websocket(handler), root(dir), or any callable of that shape.
#pragma once

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "aerie/core/task.hpp"
#include "aerie/http/request.hpp"
#include "aerie/http/response.hpp"

namespace aerie {

class Server;

/// Something that wants to know when the server starts and stops (Aerys's ServerObserver):
/// websocket applications call onStart/onStop and close their clients through it.
class ServerObserver {
 public:
  virtual ~ServerObserver() = default;
  virtual void onServerStarting(Server& server) = 0;
  /// Called on the server's control thread; the server waits for the returned task.
  virtual Task<> onServerStopping() = 0;
};

class Responder {
 public:
  using Function = std::function<Task<>(http::Request&, http::Response&)>;

  Responder() = default;
  template <class F>
  requires std::is_invocable_r_v<Task<>, F&, http::Request&, http::Response&> Responder(F function)
      : function_(std::move(function)) {}  // NOLINT: implicit on purpose
  Responder(Function function, std::vector<std::shared_ptr<ServerObserver>> observers)
      : function_(std::move(function)), observers_(std::move(observers)) {}

  Task<> operator()(http::Request& request, http::Response& response) const {
    return function_(request, response);
  }
  explicit operator bool() const noexcept { return static_cast<bool>(function_); }

  /// Observers reachable through this responder (a Router collects its routes').
  const std::vector<std::shared_ptr<ServerObserver>>& observers() const noexcept {
    return observers_;
  }

 private:
  Function function_;
  std::vector<std::shared_ptr<ServerObserver>> observers_;
};

}  // namespace aerie
