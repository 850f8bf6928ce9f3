// aerie-client-echo: the aerie client as an echo load generator, to compare with
// ../shared/bench/wsload against the same server (docs/BENCHMARKS.md).
//
//   aerie-client-echo --url ws://127.0.0.1:9001/ --conns 100 --inflight 16 --size 20
//                     --warmup 2 --seconds 10
//
// Every connection keeps --inflight text messages of --size bytes outstanding and sends
// the next one when an echo arrives (checked: length and bytes). Final line, like wsload's:
//   msgs_per_s=<f> client_cpu_pct=<n> client_us_per_msg=<f> conns=<n> errors=<n>
//
// Compression runs (docs/BENCHMARKS.md, bench/deflate_echo.sh):
//   --payload json        --size bytes of JSON-like text, 64 different documents in turn
//   --deflate off|dedicated|shared   offer permessage-deflate (default off), with context
//                         takeover (dedicated) or without (shared)
//   --server-pid PID      also report the server's CPU over the measured window
//                         (server_cpu_pct, server_us_per_msg, from /proc/PID/stat)
// and the line gains wire_ratio=<f>: bytes read off the socket / payload bytes echoed.
//
// TLS runs (bench/tls_echo.sh):
//   --cacert FILE         trust this CA (PEM) for wss:// URLs instead of the system store
//   --binary              binary messages instead of text (the 64 KiB workload)
//   --mode handshakes     no echo: --conns workers each connect (TCP, TLS for wss://, the
//                         WebSocket upgrade) and close (close handshake, end of TCP) in a
//                         loop, every time a fresh connection. Final line:
//     handshakes_per_s=<f> client_cpu_pct=<n> client_us_per_handshake=<f> conns=<n>
//     errors=<n> [server_cpu_pct=<n> server_us_per_handshake=<f>]
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "aerie/aerie.hpp"

using namespace aerie;
using Clock = std::chrono::steady_clock;

namespace {

struct Settings {
  std::string url = "ws://127.0.0.1:9001/";
  int conns = 100;
  int inflight = 16;
  std::size_t size = 20;
  int warmup = 2;
  int seconds = 10;
  bool json = false;
  std::string deflate = "off";
  long serverPid = 0;
  std::string caFile;
  bool binary = false;
  std::string mode = "echo";
};

/// utime + stime of `pid` in seconds (fields 14 and 15 of /proc/PID/stat).
double processCpuSeconds(long pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const auto paren = stat.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// A JSON-like document of exactly `size` bytes: an order with items, numbers varying per
/// document, as a chat or trading feed would send (compressible, but not trivially).
std::string jsonDocument(std::size_t size, std::mt19937& rng) {
  static const char* const kNames[] = {"alice", "bob", "carol", "dave", "erin", "frank"};
  static const char* const kStatus[] = {"new", "filled", "partial", "cancelled"};
  std::string doc = "{\"id\":" + std::to_string(rng() % 1000000) + ",\"user\":\"" +
                    kNames[rng() % 6] +
                    "\",\"ts\":" + std::to_string(1700000000 + rng() % 1000000) + ",\"status\":\"" +
                    kStatus[rng() % 4] + "\",\"items\":[";
  for (int item = 0; doc.size() + 80 < size; ++item) {
    if (item > 0) doc += ',';
    doc += "{\"sku\":\"SKU-" + std::to_string(rng() % 10000) +
           "\",\"qty\":" + std::to_string(rng() % 20 + 1) +
           ",\"price\":" + std::to_string(rng() % 10000 / 100.0).substr(0, 6) +
           ",\"currency\":\"EUR\"}";
  }
  doc += "],\"note\":\"";
  while (doc.size() + 2 < size)
    doc += static_cast<char>('a' + rng() % 26);
  doc += "\"}";
  doc.resize(size, ' ');
  return doc;
}

std::vector<std::string> makePayloads(const Settings& settings) {
  if (!settings.json) return {std::string(settings.size, 'x')};
  std::mt19937 rng(42);
  std::vector<std::string> payloads;
  for (int i = 0; i < 64; ++i)
    payloads.push_back(jsonDocument(settings.size, rng));
  return payloads;
}

double cpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Counters {
  std::uint64_t echoes = 0;
  std::uint64_t errors = 0;
  std::uint64_t payloadBytes = 0;
  bool measuring = false;
  bool done = false;
};

client::SendAwaitable send(websocket::Connection& connection, const std::string& payload,
                           bool binary) {
  return binary ? connection.sendBinary(payload) : connection.send(payload);
}

Task<> drive(websocket::Connection connection, const std::vector<std::string>& payloads,
             int inflight, bool binary, Counters& counters) {
  std::size_t sent = 0;
  std::size_t received = 0;
  for (int i = 0; i < inflight; ++i)
    co_await send(connection, payloads[sent++ % payloads.size()], binary);
  while (!counters.done) {
    auto message = co_await connection.receive();
    if (!message) break;
    const std::string echo = co_await message->buffer();
    if (echo != payloads[received++ % payloads.size()] || message->isBinary() != binary)
      ++counters.errors;
    if (counters.measuring) {
      ++counters.echoes;
      counters.payloadBytes += echo.size();
    }
    if (!counters.done) co_await send(connection, payloads[sent++ % payloads.size()], binary);
  }
  co_await connection.close();
}

std::uint64_t wireBytesRead(const std::vector<websocket::Connection>& connections) {
  std::uint64_t total = 0;
  for (const auto& connection : connections)
    total += connection.getInfo().bytesRead;
  return total;
}

client::Options clientOptions(const Settings& settings) {
  client::Options options;
  options.perMessageDeflate = settings.deflate != "off";
  options.deflateNoContextTakeover = settings.deflate == "shared";
  options.compressionThreshold = 0;
  return options;
}

client::ConnectOptions connectOptions(const Settings& settings) {
  client::ConnectOptions options;
  options.tls.caFile = settings.caFile;  // ignored for ws:// URLs
  return options;
}

Task<> runAll(const Settings& settings, Counters& counters) {
  const std::vector<std::string> payloads = makePayloads(settings);
  const client::Options options = clientOptions(settings);
  const client::ConnectOptions reach = connectOptions(settings);
  std::vector<websocket::Connection> connections;
  for (int i = 0; i < settings.conns; ++i)
    connections.push_back(co_await websocket::connect(settings.url, reach, options));
  int finished = 0;
  struct Done {
    int* finished;
  } done{&finished};
  for (auto& connection : connections) {
    drive(connection, payloads, settings.inflight, settings.binary, counters)
        .start([](void* context, std::uint64_t,
                  std::exception_ptr) noexcept { ++*static_cast<Done*>(context)->finished; },
               &done);
  }
  co_await delay(std::chrono::seconds(settings.warmup));
  counters.measuring = true;
  const auto started = Clock::now();
  const double cpuStarted = cpuSeconds();
  const double serverStarted = settings.serverPid > 0 ? processCpuSeconds(settings.serverPid) : 0;
  const std::uint64_t wireStarted = wireBytesRead(connections);
  co_await delay(std::chrono::seconds(settings.seconds));
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  const double cpu = cpuSeconds() - cpuStarted;
  const double serverCpu =
      settings.serverPid > 0 ? processCpuSeconds(settings.serverPid) - serverStarted : 0;
  const std::uint64_t wire = wireBytesRead(connections) - wireStarted;
  counters.measuring = false;
  const double echoes = static_cast<double>(counters.echoes);
  std::printf("msgs_per_s=%.0f client_cpu_pct=%.0f client_us_per_msg=%.2f conns=%d errors=%llu",
              echoes / elapsed, 100.0 * cpu / elapsed, echoes > 0 ? 1e6 * cpu / echoes : 0.0,
              settings.conns, static_cast<unsigned long long>(counters.errors));
  if (settings.serverPid > 0) {
    std::printf(" server_cpu_pct=%.0f server_us_per_msg=%.2f", 100.0 * serverCpu / elapsed,
                echoes > 0 ? 1e6 * serverCpu / echoes : 0.0);
  }
  std::printf(" wire_ratio=%.3f\n",
              counters.payloadBytes > 0
                  ? static_cast<double>(wire) / static_cast<double>(counters.payloadBytes)
                  : 0.0);
  std::fflush(stdout);
  counters.done = true;
  connections.clear();
  while (finished < settings.conns)
    co_await delay(std::chrono::milliseconds(20));
}

struct HandshakeCounters {
  std::uint64_t handshakes = 0;  // completed while measuring
  std::uint64_t errors = 0;
  std::string firstError;
  bool measuring = false;
  bool done = false;
};

/// One worker of --mode handshakes: connect, close, again, until told to stop. Each round
/// is a new TCP connection (and a full TLS handshake: the client does not resume sessions).
Task<> handshakeWorker(const Settings& settings, HandshakeCounters& counters) {
  const client::Options options = clientOptions(settings);
  const client::ConnectOptions reach = connectOptions(settings);
  while (!counters.done) {
    bool failed = false;
    try {
      websocket::Connection connection = co_await websocket::connect(settings.url, reach, options);
      co_await connection.close();
      // A clean close handshake: the server's close frame echoed our 1000.
      failed = connection.closeCode() != 1000;
      if (failed && counters.firstError.empty())
        counters.firstError = "close code " + std::to_string(connection.closeCode());
    } catch (const std::exception& error) {
      failed = true;
      if (counters.firstError.empty()) counters.firstError = error.what();
    }
    if (failed) {
      ++counters.errors;
      co_await delay(std::chrono::milliseconds(10));  // no hot loop against a dead server
    } else if (counters.measuring) {
      ++counters.handshakes;
    }
  }
}

Task<> runHandshakes(const Settings& settings, HandshakeCounters& counters) {
  int finished = 0;
  for (int i = 0; i < settings.conns; ++i) {
    handshakeWorker(settings, counters)
        .start([](void* context, std::uint64_t,
                  std::exception_ptr) noexcept { ++*static_cast<int*>(context); },
               &finished);
  }
  co_await delay(std::chrono::seconds(settings.warmup));
  counters.measuring = true;
  const auto started = Clock::now();
  const double cpuStarted = cpuSeconds();
  const double serverStarted = settings.serverPid > 0 ? processCpuSeconds(settings.serverPid) : 0;
  co_await delay(std::chrono::seconds(settings.seconds));
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  const double cpu = cpuSeconds() - cpuStarted;
  const double serverCpu =
      settings.serverPid > 0 ? processCpuSeconds(settings.serverPid) - serverStarted : 0;
  counters.measuring = false;
  const double count = static_cast<double>(counters.handshakes);
  std::printf(
      "handshakes_per_s=%.0f client_cpu_pct=%.0f client_us_per_handshake=%.2f conns=%d "
      "errors=%llu",
      count / elapsed, 100.0 * cpu / elapsed, count > 0 ? 1e6 * cpu / count : 0.0, settings.conns,
      static_cast<unsigned long long>(counters.errors));
  if (settings.serverPid > 0) {
    std::printf(" server_cpu_pct=%.0f server_us_per_handshake=%.2f", 100.0 * serverCpu / elapsed,
                count > 0 ? 1e6 * serverCpu / count : 0.0);
  }
  std::printf("\n");
  std::fflush(stdout);
  if (!counters.firstError.empty())
    std::fprintf(stderr, "aerie-client-echo: first error: %s\n", counters.firstError.c_str());
  counters.done = true;
  while (finished < settings.conns)
    co_await delay(std::chrono::milliseconds(20));
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--binary") {  // the one flag without a value
      settings.binary = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "aerie-client-echo: %s needs a value\n", flag.c_str());
      return 2;
    }
    const char* value = argv[i + 1];
    if (flag == "--url") {
      settings.url = value;
    } else if (flag == "--conns") {
      settings.conns = std::atoi(value);
    } else if (flag == "--inflight") {
      settings.inflight = std::atoi(value);
    } else if (flag == "--size") {
      settings.size = static_cast<std::size_t>(std::atol(value));
    } else if (flag == "--warmup") {
      settings.warmup = std::atoi(value);
    } else if (flag == "--seconds") {
      settings.seconds = std::atoi(value);
    } else if (flag == "--payload") {
      settings.json = std::string(value) == "json";
    } else if (flag == "--deflate") {
      settings.deflate = value;
    } else if (flag == "--server-pid") {
      settings.serverPid = std::atol(value);
    } else if (flag == "--cacert") {
      settings.caFile = value;
    } else if (flag == "--mode") {
      settings.mode = value;
      if (settings.mode != "echo" && settings.mode != "handshakes") {
        std::fprintf(stderr, "aerie-client-echo: --mode echo|handshakes\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "aerie-client-echo: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (settings.mode == "handshakes") {
    HandshakeCounters counters;
    try {
      aerie::run(runHandshakes(settings, counters));
    } catch (const std::exception& error) {
      std::fprintf(stderr, "aerie-client-echo: %s\n", error.what());
      return 1;
    }
    return counters.errors == 0 ? 0 : 1;
  }
  Counters counters;
  try {
    aerie::run(runAll(settings, counters));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "aerie-client-echo: %s\n", error.what());
    return 1;
  }
  return counters.errors == 0 ? 0 : 1;
}
