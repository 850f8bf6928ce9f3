// connect(): URL -> resolved addresses -> TCP (through an HTTP proxy's CONNECT tunnel when
// configured) -> opening handshake -> ClientSession.
#include "aerie/client/connect.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "aerie/http/response_parser.hpp"
#include "aerie/protocol/close_code.hpp"
#include "aerie/protocol/frame_writer.hpp"
#include "aerie/protocol/handshake.hpp"
#include "aerie/protocol/header_values.hpp"
#include "aerie/protocol/permessage_deflate.hpp"
#include "client/client_session.hpp"
#include "client/client_tls.hpp"
#include "client/mask_keys.hpp"
#include "client/proxy_settings.hpp"
#include "client/socket_ops.hpp"
#include "client/ws_url.hpp"
#include "net/loop.hpp"

namespace aerie::client {
namespace {

using asio::ip::tcp;

std::string describe(const tcp::endpoint& endpoint) {
  const asio::ip::address address = endpoint.address();
  std::string text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return text + ":" + std::to_string(endpoint.port());
}

/// Tries every address in turn until one connects.
Task<tcp::socket> connectAny(net::Loop& loop, const std::string& host, std::uint16_t port,
                             const ConnectOptions& options, detail::Deadline& deadline) {
  const std::string target = host + ":" + std::to_string(port);
  tcp::resolver resolver(loop.io());
  deadline.guard(&resolver);
  detail::ResolveAwaiter resolve{resolver, host, std::to_string(port), {}, {}};
  const std::error_code resolveError = co_await resolve;
  deadline.guard(static_cast<tcp::resolver*>(nullptr));
  if (deadline.expired()) throw TimeoutError("resolving " + host + ": timed out");
  if (resolveError) throw DnsError("cannot resolve '" + host + "': " + resolveError.message());
  std::vector<tcp::endpoint> resolved;
  for (const auto& entry : resolve.results)
    resolved.push_back(entry.endpoint());
  const std::vector<tcp::endpoint> endpoints =
      detail::orderEndpoints(std::move(resolved), options.addressFamily);
  if (endpoints.empty()) {
    throw DnsError("'" + host + "' has no address of the requested family");
  }

  std::string failures;
  for (const tcp::endpoint& endpoint : endpoints) {
    tcp::socket socket(loop.io());
    std::error_code error;
    socket.open(endpoint.protocol(), error);
    if (!error && !options.bindAddress.empty()) {
      const asio::ip::address local = asio::ip::make_address(options.bindAddress, error);
      if (error)
        throw InvalidArgument("bindAddress '" + options.bindAddress + "' is not an IP address");
      socket.bind(tcp::endpoint(local, 0), error);
      if (error) {
        failures += (failures.empty() ? "" : "; ") + std::string("binding to ") +
                    options.bindAddress + ": " + error.message();
        continue;
      }
    }
    if (!error) {
      deadline.guard(&socket);
      error = co_await detail::ConnectAwaiter{socket, endpoint, {}};
      deadline.guard(static_cast<tcp::socket*>(nullptr));
    }
    if (deadline.expired()) {
      throw TimeoutError("connecting to " + target + ": timed out after " +
                         std::to_string(options.connectTimeout.count()) + " ms");
    }
    if (!error) {
      if (options.tcpNoDelay) socket.set_option(tcp::no_delay(true), error);
      socket.non_blocking(true, error);
      co_return socket;
    }
    failures += (failures.empty() ? "" : "; ") + describe(endpoint) + ": " + error.message();
  }
  throw ConnectError("cannot connect to " + target + " (" + failures + ")");
}

/// Reads an HTTP response head (and, unless it is a 101 or a tunnel, its body) into
/// `parser`. What follows the head stays in `buffer`.
Task<> readResponse(tcp::socket& socket, http::ResponseParser& parser, std::string& buffer,
                    const detail::Deadline& deadline, const std::string& what,
                    net::TlsChannel* tls = nullptr) {
  std::size_t offset = 0;
  while (true) {
    if (offset < buffer.size()) {
      offset += parser.feed(std::string_view(buffer).substr(offset));
    }
    const auto state = parser.state();
    if (state == http::ResponseParser::State::Failed) {
      throw ConnectError(what + ": malformed response: " + std::string(parser.error()));
    }
    if (state == http::ResponseParser::State::Complete) break;
    if (offset < buffer.size()) continue;
    buffer.clear();
    offset = 0;
    if (!co_await detail::readSome(socket, buffer, deadline, what, tls)) {
      parser.finish();
      if (parser.state() == http::ResponseParser::State::Complete) break;
      throw ConnectError(what + ": the connection closed before a complete response");
    }
  }
  buffer.erase(0, offset);
}

}  // namespace

Task<Connection> connect(Handshake handshake, ConnectOptions connectOptions, Options options) {
  net::Loop* loop = net::Loop::current();
  if (loop == nullptr) {
    throw InvalidArgument(
        "websocket::connect() needs a thread running an aerie event loop: call it inside "
        "aerie::run() or a server handler");
  }
  const detail::WsUrlResult parsed = detail::parseWsUrl(handshake.url);
  if (!parsed.url) throw InvalidArgument(parsed.error);
  const detail::WsUrl& url = *parsed.url;
  std::shared_ptr<net::TlsContext> tlsContext;
  if (url.secure) tlsContext = detail::clientTlsContext(connectOptions.tls);

  std::optional<detail::ProxySettings> proxy;
  if (!connectOptions.proxy.empty()) {
    detail::ProxyResult result = detail::parseProxyUrl(connectOptions.proxy);
    if (!result.proxy) throw InvalidArgument(result.error);
    proxy = std::move(result.proxy);
  } else if (connectOptions.proxyFromEnvironment) {
    detail::ProxyResult result = detail::proxyFromEnvironment(
        url.secure, url.host, url.port, [](const char* name) { return std::getenv(name); });
    if (!result.proxy && !result.error.empty()) throw InvalidArgument(result.error);
    proxy = std::move(result.proxy);
  }

  // TCP, to the server or to the proxy, and the tunnel: all within connectTimeout.
  std::string buffer;  // bytes read but not yet used
  tcp::socket socket(loop->io());
  {
    detail::Deadline deadline(*loop, connectOptions.connectTimeout);
    if (proxy) {
      socket = co_await connectAny(*loop, proxy->host, proxy->port, connectOptions, deadline);
      const std::string what = "proxy " + proxy->authority() + " CONNECT " + url.authority();
      deadline.guard(&socket);
      co_await detail::writeAll(socket, detail::buildConnectRequest(url.authority(), *proxy),
                                deadline, what);
      http::ResponseParser parser;
      parser.setRequestMethod("CONNECT");
      co_await readResponse(socket, parser, buffer, deadline, what);
      deadline.guard(static_cast<tcp::socket*>(nullptr));
      if (parser.status() < 200 || parser.status() > 299) {
        throw ProxyError(what + ": refused with " + std::to_string(parser.status()) + " " +
                             std::string(parser.reason()),
                         parser.status());
      }
    } else {
      socket = co_await connectAny(*loop, url.host, url.port, connectOptions, deadline);
    }
  }
  // TLS (through the tunnel, when there is one), within connectTimeout too.
  std::unique_ptr<net::TlsChannel> tls;
  if (tlsContext) {
    const TlsOptions& tlsOptions = connectOptions.tls;
    const std::string& name = tlsOptions.serverName.empty() ? url.host : tlsOptions.serverName;
    tls = net::TlsChannel::connect(tlsContext->get(), socket.native_handle(), name,
                                   !tlsOptions.insecureSkipVerification);
    if (!tls) throw TlsError("TLS: cannot create a session: " + net::takeOpenSslError());
    detail::Deadline deadline(*loop, connectOptions.connectTimeout);
    deadline.guard(&socket);
    co_await detail::tlsHandshake(socket, *tls, deadline, "TLS handshake with " + url.authority());
  }
  std::error_code ignored;
  const tcp::endpoint peer = socket.remote_endpoint(ignored);
  const std::string remoteAddress = describe(peer);

  // The opening handshake, within handshakeTimeout.
  const std::string key = protocol::generateClientKey();
  std::vector<protocol::HeaderField> extra;
  for (const http::HeaderField& field : handshake.headers)
    extra.push_back({field.name, field.value});
  protocol::ClientRequest request;
  const std::string hostHeader = url.hostHeader();
  request.target = url.target;
  request.host = hostHeader;
  request.key = key;
  request.origin = handshake.origin;
  request.subprotocols = handshake.subprotocols;
  request.extraHeaders = extra;
  protocol::DeflateConfig deflateConfig;
  deflateConfig.serverNoContextTakeover = options.deflateNoContextTakeover;
  deflateConfig.clientNoContextTakeover = options.deflateNoContextTakeover;
  deflateConfig.clientMaxWindowBits = options.deflateWindowBits;
  const std::string deflateOffer =
      options.perMessageDeflate ? protocol::formatDeflateOffer(deflateConfig) : std::string();
  request.extensions = deflateOffer;
  std::string_view requestError;
  std::string head = protocol::buildClientRequestHead(request, &requestError);
  if (head.empty()) {
    throw InvalidArgument("cannot send the handshake for " + handshake.url + ": " +
                          std::string(requestError));
  }
  http::ResponseParser response;
  {
    detail::Deadline deadline(*loop, connectOptions.handshakeTimeout);
    deadline.guard(&socket);
    const std::string what = "WebSocket handshake with " + handshake.url;
    co_await detail::writeAll(socket, std::move(head), deadline, what, tls.get());
    co_await readResponse(socket, response, buffer, deadline, what, tls.get());
  }
  if (response.status() != 101) {
    throw HandshakeError("the server refused the WebSocket handshake for " + handshake.url +
                             " with " + std::to_string(response.status()) + " " +
                             std::string(response.reason()),
                         response.status(), response.headers(), response.body());
  }
  std::vector<protocol::HeaderField> fields;
  for (const http::HeaderField& field : response.headers())
    fields.push_back({field.name, field.value});
  const protocol::ClientHandshakeCheck check =
      protocol::validateServerResponse(response.status(), fields, key, handshake.subprotocols);
  if (!check) {
    throw HandshakeError("invalid handshake response from " + handshake.url + ": " + check.error,
                         response.status(), response.headers(), {});
  }
  std::optional<protocol::DeflateParameters> deflate;
  if (!check.extensions.empty()) {
    std::string refusal;
    const auto answered = protocol::parseExtensions(check.extensions);
    if (!options.perMessageDeflate) {
      // RFC 6455 4.1: an extension we did not offer fails the connection.
      refusal = "chose extensions we did not offer: " + check.extensions;
    } else if (!answered) {
      refusal = "answered with a malformed Sec-WebSocket-Extensions: " + check.extensions;
    } else {
      protocol::DeflateAcceptance accepted =
          protocol::acceptDeflateResponse(*answered, deflateConfig);
      if (accepted.parameters) {
        deflate = accepted.parameters;
      } else {
        refusal = std::move(accepted.error);
      }
    }
    if (!refusal.empty()) {
      // The connection is open: fail it with 1010 (RFC 7692, RFC 6455 7.4.1), best effort.
      std::string close;
      const protocol::MaskKey mask = detail::CsprngMaskKeys::forThisThread().next();
      protocol::appendCloseFrame(close, protocol::close_code::MandatoryExtension,
                                 "unacceptable extension answer", &mask);
      if (tls) {
        (void)tls->write(close.data(), close.size());
      } else {
        (void)::send(socket.native_handle(), close.data(), close.size(),
                     MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      throw HandshakeError("the server at " + handshake.url + " " + refusal, response.status(),
                           response.headers(), {});
    }
  }

  auto session = std::make_shared<detail::ClientSession>(*loop, std::move(socket), options,
                                                         remoteAddress, deflate, std::move(tls));
  session->subprotocol = std::string(check.subprotocol);
  session->responseHeaders = response.headers();
  session->start(std::move(buffer));
  co_return Connection(std::move(session));
}

}  // namespace aerie::client
