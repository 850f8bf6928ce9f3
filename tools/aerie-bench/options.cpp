#include "options.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace aerie::bench {
namespace {

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "aerie-bench: %s\n", why.c_str());
  std::exit(2);
}

// ws://host[:port][/path?query]; ws:// only (TLS is not implemented).
void parseUrl(Options& o) {
  std::string_view rest = o.url;
  if (rest.starts_with("wss://")) die("wss:// is not supported yet (ws:// only)");
  if (!rest.starts_with("ws://")) die("URL must start with ws://: " + o.url);
  rest.remove_prefix(5);
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  o.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.empty()) die("URL has no host: " + o.url);
  o.hostHeader = std::string(authority);
  std::string_view host = authority;
  if (authority.front() == '[') {  // [IPv6]:port
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) die("bad IPv6 literal in " + o.url);
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') die("bad URL: " + o.url);
      o.port = std::string(authority.substr(close + 2));
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    o.port = std::string(authority.substr(colon + 1));
  }
  o.host = std::string(host);
  if (o.port.empty()) die("bad port in " + o.url);
}

}  // namespace

const char* modeName(Mode mode) {
  switch (mode) {
    case Mode::Echo:
      return "echo";
    case Mode::Broadcast:
      return "broadcast";
    case Mode::Connect:
      return "connect";
    case Mode::Idle:
      return "idle";
  }
  return "?";
}

std::size_t payloadHeaderSize(Mode mode) {
  return mode == Mode::Broadcast ? 22 : 8;
}

Options parseOptions(int argc, char** argv) {
  Options o;
  CLI::App app{
      "aerie-bench: WebSocket load generator (ws:// only).\n"
      "  echo       closed loop (--inflight per connection) or open loop (--rate msgs/s)\n"
      "  broadcast  --publishers send at --rate to a broadcasting endpoint, --conns receive\n"
      "  connect    open, handshake, close in a loop on --conns slots: handshakes/s\n"
      "  idle       open --conns connections and hold them (server RSS per connection)",
      "aerie-bench"};
  const std::map<std::string, Mode> modes{{"echo", Mode::Echo},
                                          {"broadcast", Mode::Broadcast},
                                          {"connect", Mode::Connect},
                                          {"idle", Mode::Idle}};
  app.add_option("mode", o.mode, "echo | broadcast | connect | idle")
      ->required()
      ->transform(CLI::CheckedTransformer(modes, CLI::ignore_case));
  app.add_option("url", o.url, "ws://host[:port][/path]")->required();
  app.add_option("-c,--conns", o.conns, "connections (broadcast: receivers)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--publishers", o.publishers, "broadcast: sending connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000));
  CLI::Option* sizeOption =
      app.add_option("-s,--size", o.size, "payload bytes per message (broadcast: 32)")
          ->capture_default_str()
          ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
  app.add_option("-i,--inflight", o.inflight, "echo closed loop: messages in flight per connection")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("-r,--rate", o.rate,
                 "open loop: messages/s in total (echo: over all connections; broadcast: "
                 "published, default 1000); latency counts from the scheduled send time")
      ->check(CLI::NonNegativeNumber);
  app.add_option("-d,--duration", o.duration, "measured seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("-w,--warmup", o.warmup, "seconds of load before measuring")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("-b,--binary", o.binary, "binary messages (default text)");
  app.add_option("-t,--threads", o.threads, "event loops (threads), connections split evenly")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--connect-window", o.connectWindow, "handshakes in progress at once (setup)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--server-pid", o.serverPid, "report this process's CPU per message and RSS")
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", o.json, "one JSON object on stdout instead of the text summary");
  app.add_option("--svg", o.svgPath, "write throughput over time and latency percentiles here");
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "no progress line on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  o.progress = !quiet;
  parseUrl(o);
  if (o.mode == Mode::Broadcast) {
    if (o.rate == 0) o.rate = 1000;
    if (sizeOption->count() == 0) o.size = 32;  // room for seq, timestamp and publisher
    if (o.size < payloadHeaderSize(o.mode))
      die("broadcast needs --size >= " + std::to_string(payloadHeaderSize(o.mode)) +
          " (sequence, timestamp and publisher travel in the payload)");
  }
  if (o.rate > 0 && o.mode != Mode::Echo && o.mode != Mode::Broadcast)
    die("--rate applies to echo and broadcast");
  return o;
}

}  // namespace aerie::bench
