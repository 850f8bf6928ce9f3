// aerie-client-echo: the aerie client as an echo load generator, to compare with
// ../shared/bench/wsload against the same server (docs/BENCHMARKS.md).
//
//   aerie-client-echo --url ws://127.0.0.1:9001/ --conns 100 --inflight 16 --size 20
//                     --warmup 2 --seconds 10
//
// Every connection keeps --inflight text messages of --size bytes outstanding and sends
// the next one when an echo arrives (checked: length and bytes). Final line, like wsload's:
//   msgs_per_s=<f> client_cpu_pct=<n> client_us_per_msg=<f> conns=<n> errors=<n>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
};

double cpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Counters {
  std::uint64_t echoes = 0;
  std::uint64_t errors = 0;
  bool measuring = false;
  bool done = false;
};

Task<> drive(websocket::Connection connection, const std::string& payload, int inflight,
             Counters& counters) {
  for (int i = 0; i < inflight; ++i)
    co_await connection.send(payload);
  while (!counters.done) {
    auto message = co_await connection.receive();
    if (!message) break;
    const std::string echo = co_await message->buffer();
    if (echo != payload) ++counters.errors;
    if (counters.measuring) ++counters.echoes;
    if (!counters.done) co_await connection.send(payload);
  }
  co_await connection.close();
}

Task<> runAll(const Settings& settings, Counters& counters) {
  const std::string payload(settings.size, 'x');
  std::vector<websocket::Connection> connections;
  for (int i = 0; i < settings.conns; ++i)
    connections.push_back(co_await websocket::connect(settings.url));
  int finished = 0;
  struct Done {
    int* finished;
  } done{&finished};
  for (auto& connection : connections) {
    drive(connection, payload, settings.inflight, counters)
        .start([](void* context,
                  std::exception_ptr) noexcept { ++*static_cast<Done*>(context)->finished; },
               &done);
  }
  connections.clear();  // the drivers hold them now
  co_await delay(std::chrono::seconds(settings.warmup));
  counters.measuring = true;
  const auto started = Clock::now();
  const double cpuStarted = cpuSeconds();
  co_await delay(std::chrono::seconds(settings.seconds));
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  const double cpu = cpuSeconds() - cpuStarted;
  counters.measuring = false;
  const double echoes = static_cast<double>(counters.echoes);
  std::printf("msgs_per_s=%.0f client_cpu_pct=%.0f client_us_per_msg=%.2f conns=%d errors=%llu\n",
              echoes / elapsed, 100.0 * cpu / elapsed, echoes > 0 ? 1e6 * cpu / echoes : 0.0,
              settings.conns, static_cast<unsigned long long>(counters.errors));
  std::fflush(stdout);
  counters.done = true;
  while (finished < settings.conns)
    co_await delay(std::chrono::milliseconds(20));
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
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
    } else {
      std::fprintf(stderr, "aerie-client-echo: unknown flag %s\n", flag.c_str());
      return 2;
    }
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
