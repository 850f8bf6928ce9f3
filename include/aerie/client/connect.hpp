// connect(): opens a client WebSocket connection (amphp's Websocket\connect()). Also
// reachable as websocket::connect(...).
#pragma once

#include "aerie/client/connect_options.hpp"
#include "aerie/client/connection.hpp"
#include "aerie/client/errors.hpp"
#include "aerie/client/handshake.hpp"
#include "aerie/client/options.hpp"
#include "aerie/core/task.hpp"

namespace aerie::client {

/// Resolves the URL's host, connects (through the proxy, if any) and performs the opening
/// handshake. Must be awaited on a thread running an aerie loop (inside aerie::run() or a
/// server handler); the connection lives on that loop.
///
/// Throws InvalidArgument (bad URL or option, wss:// while TLS is not built), DnsError,
/// ConnectError, TimeoutError, ProxyError or HandshakeError (see errors.hpp).
Task<Connection> connect(Handshake handshake, ConnectOptions connectOptions = {},
                         Options options = {});
inline Task<Connection> connect(Handshake handshake, Options options) {
  return connect(std::move(handshake), ConnectOptions{}, options);
}

}  // namespace aerie::client
