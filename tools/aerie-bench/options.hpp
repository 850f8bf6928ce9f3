// aerie-bench's command line: `aerie-bench MODE URL [flags]`.
#pragma once

#include <cstdint>
#include <string>

namespace aerie::bench {

enum class Mode { Echo, Broadcast, Connect, Idle };

const char* modeName(Mode mode);

struct Options {
  Mode mode = Mode::Echo;
  std::string url;
  std::string host;          // from the URL; an IPv6 literal without brackets
  std::string port = "80";   // from the URL
  std::string target = "/";  // path and query from the URL
  std::string hostHeader;    // host[:port] as written in the URL

  int conns = 100;        // echo/connect/idle: connections; broadcast: receivers
  int publishers = 1;     // broadcast: connections that send
  std::size_t size = 20;  // payload bytes
  int inflight = 1;       // echo closed loop: messages outstanding per connection
  double rate = 0;        // messages/s in total; 0 = closed loop (echo only)
  double duration = 10;   // measured seconds
  double warmup = 1;      // seconds of load before measuring
  bool binary = false;
  int threads = 1;
  int connectWindow = 256;  // connections in connect/handshake at once while setting up
  int serverPid = 0;
  bool json = false;
  bool progress = true;
  std::string svgPath;
};

/// Parses argv; prints help or an error and exits on bad input.
Options parseOptions(int argc, char** argv);

/// Header bytes at the start of every payload this mode sends (sequence number, and in
/// broadcast the send timestamp and publisher); the rest is a pattern that shifts with the
/// sequence number, so every message differs from its neighbours.
std::size_t payloadHeaderSize(Mode mode);

}  // namespace aerie::bench
