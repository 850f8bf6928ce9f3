// aerie-cat — an interactive WebSocket client for the command line, like wscat.
//
//   aerie-cat ws://127.0.0.1:8080/echo            lines of stdin out, messages to stdout
//   aerie-cat --echo ws://127.0.0.1:9001/runCase  send every message back (conformance runs)
//
// Exit codes: 0 normal close, 1 connect/handshake error, 2 usage error, 3 other close code.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cat_options.hpp"
#include "cat_session.hpp"

namespace {

constexpr std::uint64_t kEchoMessageLimit = 64 * 1024 * 1024;

}  // namespace

int main(int argc, char** argv) {
  using aerie::cat::CatOptions;
  CatOptions options;
  std::vector<std::string> headers;
  long long connectTimeoutMs = -1;
  std::uint64_t maxMessageSize = 0;

  CLI::App app{"aerie-cat: send stdin's lines to a WebSocket server, print what it sends"};
  app.add_option("url", options.url, "ws://host[:port]/path?query")->required();
  const CLI::Validator headerSpec(
      [](std::string& spec) -> std::string {
        return aerie::cat::parseHeader(spec) ? "" : "expected 'Name: value', got '" + spec + "'";
      },
      "'NAME: VALUE'");
  app.add_option("-H,--header", headers, "Extra handshake header (repeatable)")->check(headerSpec);
  app.add_option("--subprotocol", options.subprotocols,
                 "Offer this subprotocol (repeatable, in order of preference)");
  app.add_option("--origin", options.origin, "Origin header");
  app.add_option("--ping-interval", options.pingIntervalSeconds,
                 "Send a ping every SECONDS (fractions allowed)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--show-close", options.showClose, "Print 'closed: CODE REASON' to stderr");
  app.add_option("--connect-timeout", connectTimeoutMs,
                 "Milliseconds to resolve and connect (default 10000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--proxy", options.connect.proxy,
                 "HTTP proxy http://[user:password@]host[:port] (CONNECT tunnel)");
  app.add_flag("--proxy-from-env", options.connect.proxyFromEnvironment,
               "Take the proxy from http_proxy/https_proxy, honouring no_proxy");
  CLI::Option* maxMessageOption =
      app.add_option("--max-message-size", maxMessageSize,
                     "Largest message accepted, in bytes (0: unlimited; default 16 MiB, "
                     "64 MiB with --echo); larger closes with 1009");
  CLI::Option* binaryOption =
      app.add_flag("--binary", options.binaryInput, "Send stdin's lines as binary messages");
  app.add_flag("--binary-hex", options.binaryHex,
               "Print received binary messages as hex instead of '<binary N bytes>'");
  app.add_flag("--echo", options.echo,
               "Send every message back with its opcode until the server closes; stdin is "
               "ignored and nothing is printed per message (unless -v)")
      ->excludes(binaryOption);
  app.add_option("--cacert", options.connect.tls.caFile,
                 "wss://: trust the CAs in this PEM file instead of the system store");
  app.add_option("--capath", options.connect.tls.caDirectory,
                 "wss://: trust the CAs in this directory (hashed names)");
  app.add_option("--cert", options.connect.tls.certificateFile,
                 "wss://: client certificate (PEM chain)");
  app.add_option("--key", options.connect.tls.privateKeyFile,
                 "wss://: the client certificate's private key (PEM)");
  app.add_flag("--insecure", options.connect.tls.insecureSkipVerification,
               "wss://: DANGEROUS: accept any server certificate (no verification)");
  bool noDeflate = false;
  app.add_flag("--no-deflate", noDeflate, "Do not offer permessage-deflate (offered by default)");
  app.add_flag("--deflate-no-context-takeover", options.client.deflateNoContextTakeover,
               "Offer permessage-deflate without context takeover either way (less memory, "
               "less compression)");
  app.add_option("--deflate-window-bits", options.client.deflateWindowBits,
                 "Window of our compressor, offered as client_max_window_bits (9..15)")
      ->check(CLI::Range(8, 15));
  app.add_flag("-v,--verbose", options.verbose, "Diagnostics on stderr");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11's own exit codes (105, 106...) would be mistaken for ours: usage errors are 2.
    return app.exit(e) == 0 ? 0 : aerie::cat::kExitUsage;
  }

  options.client.perMessageDeflate = !noDeflate;
  if (options.connect.tls.insecureSkipVerification) {
    std::fprintf(stderr,
                 "aerie-cat: warning: --insecure: the server's certificate is NOT verified; "
                 "anyone on the path can read and change this connection\n");
  }
  for (const std::string& spec : headers)
    options.headers.push_back(*aerie::cat::parseHeader(spec));
  if (connectTimeoutMs > 0)
    options.connect.connectTimeout = std::chrono::milliseconds(connectTimeoutMs);
  if (options.echo) {
    // Conformance suites send messages of up to 16 MiB in one frame.
    options.client.maxMessageSize = kEchoMessageLimit;
    options.client.maxFrameSize = kEchoMessageLimit;
  }
  if (maxMessageOption->count() > 0) {
    options.client.maxMessageSize = maxMessageSize;
    // A message may come as a single frame: the frame limit must not be the smaller one.
    if (maxMessageSize > options.client.maxFrameSize) options.client.maxFrameSize = maxMessageSize;
  }
  return aerie::cat::runCat(options);
}
