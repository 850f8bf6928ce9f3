// aerie-bench: a WebSocket load generator (echo, broadcast, connect, idle) on raw epoll.
// The load threads (worker.cpp) do all the I/O; this thread starts them, prints a progress
// line per second, samples the server's CPU and memory at the edges of the measured
// window, and prints the summary (text, --json, --svg). See docs/aerie-bench.md.
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "options.hpp"
#include "proc_stats.hpp"
#include "report.hpp"
#include "shared_state.hpp"
#include "worker.hpp"

using namespace aerie::bench;

namespace {

void raiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

void sleepMs(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

SecondPoint pointOf(const SecondStats& s, bool warmup) {
  SecondPoint p;
  p.messagesPerSecond = double(s.messages);
  p.megabytesPerSecond = double(s.bytes) / 1e6;
  p.p50Us = double(s.latency.quantile(0.5)) / 1000;
  p.p99Us = double(s.latency.quantile(0.99)) / 1000;
  p.warmup = warmup;
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parseOptions(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  raiseFdLimit();
  if (opt.mode == Mode::Idle) opt.warmup = 0;  // nothing to warm up: the hold is the run

  const int total = opt.conns + (opt.mode == Mode::Broadcast ? opt.publishers : 0);
  opt.threads = std::min(opt.threads, total);
  SharedState shared(opt.threads, opt.mode == Mode::Broadcast ? opt.publishers : 0);

  RunReport report;
  report.options = &opt;
  if (opt.serverPid > 0) report.serverRssBeforeKib = processRssKib(opt.serverPid);

  // Connection g goes to thread g % threads, so publishers spread over the threads too.
  std::vector<WorkerResult> results(static_cast<std::size_t>(opt.threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < opt.threads; ++t) {
    std::vector<int> ids;
    for (int g = t; g < total; g += opt.threads)
      ids.push_back(g);
    threads.emplace_back([&, t, ids = std::move(ids)]() mutable {
      results[static_cast<std::size_t>(t)] = Worker(opt, shared, std::move(ids), t).run();
    });
  }

  while (shared.startNs.load() == 0)
    sleepMs(2);
  const std::int64_t start = shared.startNs.load();
  const std::int64_t warmEnd = start + static_cast<std::int64_t>(opt.warmup * 1e9);
  const std::int64_t end = warmEnd + static_cast<std::int64_t>(opt.duration * 1e9);
  if (opt.progress && opt.mode != Mode::Connect)
    std::fprintf(stderr, "aerie-bench: %lld of %d connections open\n",
                 static_cast<long long>(shared.openConnections.load()), total);

  // Sample at the window's edges; print each second once every thread reported it (or
  // half a second late, so one stalled thread cannot stall the progress line).
  const auto fullSeconds = static_cast<std::size_t>((end - start) / 1'000'000'000);
  double client0 = -1, machine0 = -1, server0 = -1;
  bool windowOpen = false, windowClosed = false;
  long long openAtEnd = 0;
  std::size_t second = 0;
  while (!windowClosed || second < fullSeconds) {
    const std::int64_t now = nowNs();
    if (!windowOpen && now >= warmEnd) {
      windowOpen = true;
      client0 = selfCpuSeconds();
      machine0 = machineBusySeconds();
      if (opt.serverPid > 0) server0 = processCpuSeconds(opt.serverPid);
    }
    if (!windowClosed && now >= end) {
      windowClosed = true;
      openAtEnd = shared.openConnections.load();  // later seconds print this, not the closing
      report.seconds = double(now - warmEnd) / 1e9;
      report.clientCpuSeconds = selfCpuSeconds() - client0;
      report.machineBusySeconds = machineBusySeconds() - machine0;
      if (opt.serverPid > 0) {
        const double server1 = processCpuSeconds(opt.serverPid);
        if (server0 >= 0 && server1 >= 0) report.serverCpuSeconds = server1 - server0;
        report.serverRssAfterKib = processRssKib(opt.serverPid);
      }
    }
    if (second < fullSeconds) {
      const std::int64_t due = start + static_cast<std::int64_t>(second + 1) * 1'000'000'000;
      SecondStats stats;
      if (now >= due &&
          shared.timeline.take(second, opt.threads, now >= due + 500'000'000, stats)) {
        const bool warmup = due <= warmEnd;
        report.perSecond.push_back(pointOf(stats, warmup));
        if (opt.progress)
          printProgress(stderr, second, report.perSecond.back(),
                        windowClosed ? openAtEnd : shared.openConnections.load(),
                        shared.errors.load(), opt.mode == Mode::Connect ? "hs" : "msg");
        ++second;
        continue;
      }
    }
    // Sleep to the next edge (window start/end, end of a second), polling every 5 ms only
    // while a second's report is late: this thread's wake-ups count as client CPU too.
    std::int64_t next = start + static_cast<std::int64_t>(second + 1) * 1'000'000'000;
    if (!windowOpen) next = std::min(next, warmEnd);
    if (!windowClosed) next = std::min(next, end);
    const std::int64_t waitMs = (next - nowNs()) / 1'000'000;
    sleepMs(static_cast<int>(std::clamp<std::int64_t>(waitMs, 5, 1000)));
  }

  for (std::thread& t : threads)
    t.join();
  for (WorkerResult& r : results) {
    report.messages += r.messages;
    report.bytes += r.bytes;
    report.sent += r.sent;
    report.connected += r.connected;
    report.latency.merge(r.latency);
  }
  if (opt.mode == Mode::Connect) report.connected = 0;  // connections there are handshakes
  report.errors = shared.errors.load();

  if (opt.json)
    printJson(stdout, report);
  else
    printSummary(stdout, report);
  if (!opt.svgPath.empty() && !writeSvg(opt.svgPath, report)) {
    std::perror(("aerie-bench: " + opt.svgPath).c_str());
    return 1;
  }
  const bool didWork = opt.mode == Mode::Idle
                           ? report.connected == static_cast<std::uint64_t>(total)
                           : report.messages > 0;
  return report.errors == 0 && didWork ? 0 : 1;
}
