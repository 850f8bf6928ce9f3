// `websocket(handler)`: the responder of a WebSocket application (seed 002:
// `Aerys\websocket(new MyAwesomeWebsocket)`), and the home of the names the seeds spell
// `Websocket\...`: websocket::Handler, websocket::Endpoint, websocket::Message...
//
// C++ cannot have a function and a namespace both called `websocket`, so `websocket` is a
// class: constructing one makes the responder, and its member types are the namespace
// (the types themselves live in aerie::ws).
#pragma once

#include <memory>

#include "aerie/client/connect.hpp"
#include "aerie/server/responder.hpp"
#include "aerie/websocket/client_info.hpp"
#include "aerie/websocket/endpoint.hpp"
#include "aerie/websocket/handler.hpp"
#include "aerie/websocket/message.hpp"
#include "aerie/websocket/options.hpp"

namespace aerie {

class websocket {  // NOLINT(readability-identifier-naming): the seeds' spelling
 public:
  using Handler = ws::Handler;
  using Endpoint = ws::Endpoint;
  using Message = ws::Message;
  using MessageError = ws::MessageError;
  using Options = ws::Options;
  using ClientInfo = ws::ClientInfo;
  using SendAwaitable = ws::SendAwaitable;
  using MessageWriter = ws::MessageWriter;

  // The client (amphp/websocket): websocket::connect("ws://...") gives a Connection.
  using Connection = client::Connection;
  using Handshake = client::Handshake;
  using ConnectOptions = client::ConnectOptions;
  using TlsOptions = client::TlsOptions;
  using ClientOptions = client::Options;  // `Options` are the server's
  using ClientMessageWriter = client::MessageWriter;

  /// See client::connect(): resolves, connects, performs the opening handshake.
  static Task<Connection> connect(Handshake handshake, ConnectOptions connectOptions = {},
                                  ClientOptions options = {}) {
    return client::connect(std::move(handshake), std::move(connectOptions), options);
  }
  static Task<Connection> connect(Handshake handshake, ClientOptions options) {
    return client::connect(std::move(handshake), ConnectOptions{}, options);
  }

  /// The application `handler` behind a route or Host::use(); one instance serves every
  /// worker thread (see Handler).
  explicit websocket(std::shared_ptr<Handler> handler, Options options = {});

  operator Responder()
      const;  // NOLINT: implicit on purpose, as in router.get("/ws", websocket(...))

 private:
  std::shared_ptr<void> app_;
};

}  // namespace aerie
