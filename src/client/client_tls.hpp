// The client's TLS contexts (one per distinct TlsOptions, cached per thread: loading the
// system CA store for every connection would cost milliseconds) and the handshake step.
#pragma once

#include <asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "aerie/client/tls_options.hpp"
#include "aerie/core/task.hpp"
#include "client/socket_ops.hpp"
#include "net/tls.hpp"

namespace aerie::client::detail {

/// Throws InvalidArgument when a file named in `options` cannot be used.
std::shared_ptr<net::TlsContext> clientTlsContext(const TlsOptions& options);

/// Runs the TLS handshake on the connected, non-blocking `socket`. Throws TlsError with the
/// reason (which certificate check failed), TimeoutError when `deadline` ran out.
Task<> tlsHandshake(asio::ip::tcp::socket& socket, net::TlsChannel& tls, const Deadline& deadline,
                    std::string what);

}  // namespace aerie::client::detail
