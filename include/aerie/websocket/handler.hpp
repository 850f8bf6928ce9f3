// The application interface of a websocket() responder (seed 002: Aerys\Websocket).
//
// One handler instance serves all worker threads: callbacks for one client always run on
// that client's thread and in order, but callbacks for different clients may run at the
// same time on different threads. Guard state shared across clients (or run --workers 1).
#pragma once

#include <any>
#include <cstdint>
#include <string_view>

#include "aerie/core/task.hpp"
#include "aerie/websocket/client_id.hpp"
#include "aerie/websocket/endpoint.hpp"
#include "aerie/websocket/message.hpp"

namespace aerie::http {
class Request;
class Response;
}  // namespace aerie::http

namespace aerie::ws {

class Handler {
 public:
  virtual ~Handler() = default;

  /// Once, while the server is STARTING, before any client connects.
  virtual void onStart(Endpoint& endpoint) = 0;

  /// The chance to deny the handshake: set a status other than 101 on `response` (its
  /// headers and body reach the client). The returned value is handed to onOpen().
  virtual Task<std::any> onHandshake(http::Request& request, http::Response& response) {
    (void)request;
    (void)response;
    co_return std::any{};
  }

  /// After a successful handshake.
  virtual Task<> onOpen(ClientId client, std::any handshakeData) {
    (void)client;
    (void)handshakeData;
    co_return;
  }

  /// Once per message, as soon as its first frame arrived.
  virtual Task<> onData(ClientId client, Message message) = 0;

  /// After the client is gone (also after Endpoint::close()). Endpoint calls for this id
  /// are harmless no-ops from now on.
  virtual Task<> onClose(ClientId client, std::uint16_t code, std::string_view reason) {
    (void)client;
    (void)code;
    (void)reason;
    co_return;
  }

  /// When the server is STOPPING. No callback but onClose runs after this; clients are
  /// closed (1001) only once the returned task completed.
  virtual Task<> onStop() { co_return; }
};

}  // namespace aerie::ws
