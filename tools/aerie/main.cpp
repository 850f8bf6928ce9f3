// aerie — serve a directory and WebSocket applications from the command line.
//
//   aerie serve --port 8080 --root public --ws /ws=broadcast --ws /echo=echo
#include <CLI/CLI.hpp>
#include <aerie/aerie.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "apps.hpp"

namespace {

struct ServeArgs {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  unsigned workers = 0;
  std::string root;
  std::vector<std::string> apps;
  aerie::websocket::Options ws;
  std::size_t maxConnections = 0;
  std::size_t connectionsPerIp = 0;
  long long heartbeatMs = -1;
  long long closePeriodMs = -1;
  long long idleTimeoutMs = -1;
  long long headerTimeoutMs = -1;
  long long keepAliveTimeoutMs = -1;
  bool noCompressResponses = false;
  std::vector<std::string> tlsCerts;
  std::vector<std::string> tlsKeys;
};

int serve(const ServeArgs& args) {
  aerie::Router router;
  for (const std::string& spec : args.apps) {
    const std::size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || spec[0] != '/') {
      std::cerr << "aerie: --ws expects PATH=APP (e.g. /ws=echo), got '" << spec << "'\n";
      return 2;
    }
    auto handler = aerie::tools::makeApp(spec.substr(eq + 1));
    if (!handler) {
      std::cerr << "aerie: unknown app '" << spec.substr(eq + 1) << "' (echo, broadcast, chat)\n";
      return 2;
    }
    aerie::websocket::Options options = args.ws;
    if (args.heartbeatMs >= 0)
      options.heartbeatPeriod = std::chrono::milliseconds(args.heartbeatMs);
    if (args.closePeriodMs >= 0)
      options.closePeriod = std::chrono::milliseconds(args.closePeriodMs);
    if (args.idleTimeoutMs >= 0)
      options.idleTimeout = std::chrono::milliseconds(args.idleTimeoutMs);
    router.get(spec.substr(0, eq), aerie::websocket(handler, options));
  }
  aerie::Host host;
  host.expose(args.host, args.port).use(router);
  if (args.tlsCerts.size() != args.tlsKeys.size()) {
    std::cerr << "aerie: every --tls-cert needs its --tls-key (in the same order)\n";
    return 2;
  }
  for (std::size_t i = 0; i < args.tlsCerts.size(); ++i)
    host.encrypt(args.tlsCerts[i], args.tlsKeys[i]);
  if (!args.root.empty()) {
    try {
      host.use(aerie::root(args.root));
    } catch (const std::exception& e) {
      std::cerr << "aerie: " << e.what() << "\n";
      return 2;
    }
  }
  aerie::ServerOptions options;
  options.workers = args.workers;
  if (args.maxConnections != 0) options.maxConnections = args.maxConnections;
  if (args.connectionsPerIp != 0) options.connectionsPerIp = args.connectionsPerIp;
  if (args.headerTimeoutMs > 0)
    options.headerTimeout = std::chrono::milliseconds(args.headerTimeoutMs);
  if (args.keepAliveTimeoutMs > 0)
    options.keepAliveTimeout = std::chrono::milliseconds(args.keepAliveTimeoutMs);
  options.compressResponses = !args.noCompressResponses;
  aerie::Server server(host, options);
  try {
    server.start();
  } catch (const std::exception& e) {
    std::cerr << "aerie: cannot start: " << e.what() << "\n";
    return 1;
  }
  for (const std::string& address : server.boundAddresses()) {
    std::printf("aerie listening on %s://%s (%u workers)\n", host.encrypted() ? "https" : "http",
                address.c_str(), server.workerCount());
  }
  std::fflush(stdout);
  return server.run();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"aerie: an asynchronous WebSocket application server"};
  app.require_subcommand(1);
  ServeArgs args;
  CLI::App* serveCommand = app.add_subcommand("serve", "Serve static files and WebSocket apps");
  serveCommand->add_option("--host", args.host, "Address to listen on (IPv4 or IPv6 literal)")
      ->capture_default_str();
  serveCommand->add_option("--port", args.port, "Port (0: any free port)")->capture_default_str();
  serveCommand->add_option("--workers", args.workers, "Worker threads (0: one per core)")
      ->capture_default_str();
  serveCommand->add_option("--root", args.root, "Directory of static files to serve");
  serveCommand->add_option("--header-timeout-ms", args.headerTimeoutMs,
                           "A request head (and a TLS handshake) must arrive within this (10000)");
  serveCommand->add_option("--keep-alive-timeout-ms", args.keepAliveTimeoutMs,
                           "Idle keep-alive connections are closed after this (15000)");
  serveCommand->add_flag("--no-compress-responses", args.noCompressResponses,
                         "No gzip/deflate Content-Encoding for HTTP responses");
  serveCommand->add_option("--tls-cert", args.tlsCerts,
                           "PEM certificate chain: serve HTTPS/WSS (repeatable: SNI picks)");
  serveCommand->add_option("--tls-key", args.tlsKeys, "PEM private key of the --tls-cert");
  serveCommand->add_option("--ws", args.apps,
                           "PATH=APP, APP one of echo, broadcast, chat (repeatable)");
  serveCommand->add_option("--max-frame-size", args.ws.maxFrameSize, "Bytes (1009 beyond)")
      ->capture_default_str();
  serveCommand->add_option("--max-message-size", args.ws.maxMessageSize, "Bytes (1009 beyond)")
      ->capture_default_str();
  serveCommand
      ->add_option("--max-frames-per-second", args.ws.maxFramesPerSecond,
                   "Reading pauses beyond (0: no limit)")
      ->capture_default_str();
  serveCommand
      ->add_option("--max-bytes-per-minute", args.ws.maxBytesPerMinute,
                   "Reading pauses beyond (0: no limit)")
      ->capture_default_str();
  serveCommand
      ->add_option("--auto-frame-size", args.ws.autoFrameSize, "Outgoing fragmentation (0: never)")
      ->capture_default_str();
  serveCommand->add_option("--heartbeat-ms", args.heartbeatMs,
                           "Ping period (0: off; default 10000)");
  serveCommand->add_option("--queued-ping-limit", args.ws.queuedPingLimit)->capture_default_str();
  serveCommand->add_option("--close-period-ms", args.closePeriodMs,
                           "Close handshake bound (default 3000)");
  serveCommand->add_option("--idle-timeout-ms", args.idleTimeoutMs,
                           "Close idle clients (default 0: never)");
  serveCommand->add_flag("--text-only", args.ws.textOnly, "Refuse binary messages (1003)");
  bool noUtf8 = false;
  serveCommand->add_flag("--no-validate-utf8", noUtf8, "Do not validate text as UTF-8");
  serveCommand->add_option("--high-water-mark", args.ws.highWaterMark)->capture_default_str();
  serveCommand->add_option("--low-water-mark", args.ws.lowWaterMark)->capture_default_str();
  serveCommand->add_option("--max-backpressure", args.ws.maxBackpressure)->capture_default_str();
  serveCommand->add_option("--stream-window", args.ws.streamWindow)->capture_default_str();
  serveCommand->add_flag("--per-message-deflate,!--no-per-message-deflate",
                         args.ws.perMessageDeflate,
                         "Accept permessage-deflate (RFC 7692) offers (default: on)");
  serveCommand->add_flag("!--deflate-context-takeover", args.ws.deflateNoContextTakeover,
                         "Dedicated compressors that keep context between messages");
  serveCommand->add_option("--deflate-window-bits", args.ws.deflateWindowBits)
      ->capture_default_str();
  serveCommand->add_option("--max-connections", args.maxConnections, "Default 1000");
  serveCommand->add_option("--connections-per-ip", args.connectionsPerIp, "Default 30");
  CLI11_PARSE(app, argc, argv);
  args.ws.validateUtf8 = !noUtf8;
  if (serveCommand->parsed()) return serve(args);
  return 2;
}
