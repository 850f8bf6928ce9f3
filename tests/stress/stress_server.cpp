// aerie-stress-server: the WebSocket apps the hostile-load tests (tests/stress) need that
// `aerie serve` does not have, built on the public API only.
//
//   aerie-stress-server --port 0 --workers 1 [limit flags]
//
// Prints "aerie listening on http://127.0.0.1:P (N workers)" once accepting; SIGTERM stops
// it gracefully (exit status 0, so LeakSanitizer runs at exit under ASan) after printing
// the final counters as one "stats {...}" line on stdout.
//
// Apps (each counts its callbacks, see CloseCounter):
//   /echo    echoes each message with its opcode
//   /fanout  each message goes to every other client of /fanout WITHOUT awaiting the send:
//            a client that does not read piles up backpressure until maxBackpressure
//            closes it (1008); an awaited broadcast would instead pause the publisher
//   /abrupt  echo, for the clients a test disconnects abruptly (counted apart from /echo)
// HTTP:
//   GET /stats  JSON counters per app: {"echo":{"opens":N,"closes":N,"live":N,
//               "duplicateCloses":N,"closesWithoutOpen":N,"codes":{"1006":N,...}},...,
//               "heapInUse":N}
//               heapInUse is the bytes malloc has handed out and not had back, over all
//               arenas (glibc's mallinfo2). Leak checks use it rather than RSS: RSS keeps
//               the high-water mark of freed memory an arena does not return, which
//               depends on how many connections happened to overlap.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <aerie/aerie.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using namespace aerie;

/// Counts onOpen/onClose per client, so a test can check that onClose ran exactly once
/// for every opened client (with which code) and never for a client that did not open.
/// Callbacks of different clients may run on different workers: under a mutex.
class CloseCounter {
 public:
  void opened(ClientId id) {
    std::lock_guard lock(mutex_);
    ++opens_;
    live_[id] = true;
  }
  void closed(ClientId id, std::uint16_t code) {
    std::lock_guard lock(mutex_);
    ++closes_;
    ++codes_[code];
    const auto it = live_.find(id);
    if (it == live_.end()) {
      // Either never opened or already closed: ids are not reused, so remember closed ids
      // only as long as needed to tell the two apart.
      if (std::find(closedIds_.begin(), closedIds_.end(), id) != closedIds_.end()) {
        ++duplicateCloses_;
      } else {
        ++closesWithoutOpen_;
      }
      return;
    }
    live_.erase(it);
    closedIds_.push_back(id);
  }
  std::string json() const {
    std::lock_guard lock(mutex_);
    std::string codes;
    for (const auto& [code, count] : codes_) {
      if (!codes.empty()) codes += ',';
      codes += "\"" + std::to_string(code) + "\":" + std::to_string(count);
    }
    return "{\"opens\":" + std::to_string(opens_) + ",\"closes\":" + std::to_string(closes_) +
           ",\"live\":" + std::to_string(live_.size()) +
           ",\"duplicateCloses\":" + std::to_string(duplicateCloses_) +
           ",\"closesWithoutOpen\":" + std::to_string(closesWithoutOpen_) + ",\"codes\":{" + codes +
           "}}";
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<ClientId, bool> live_;
  // Grows with every client, by 8 bytes (not a hash node's ~40): the abrupt-disconnect test
  // checks this server's live heap for leaks, and the bookkeeping must stay far below what
  // it could detect. Searched only for a close of an unknown id, which is rare.
  std::vector<ClientId> closedIds_;
  std::map<std::uint16_t, std::size_t> codes_;
  std::size_t opens_ = 0;
  std::size_t closes_ = 0;
  std::size_t duplicateCloses_ = 0;
  std::size_t closesWithoutOpen_ = 0;
};

class CountingApp : public websocket::Handler {
 public:
  void onStart(websocket::Endpoint& endpoint) override { endpoint_ = &endpoint; }
  Task<> onOpen(ClientId id, std::any) override {
    counter_.opened(id);
    co_return;
  }
  Task<> onClose(ClientId id, std::uint16_t code, std::string_view) override {
    counter_.closed(id, code);
    co_return;
  }
  std::string stats() const { return counter_.json(); }

 protected:
  websocket::Endpoint* endpoint_ = nullptr;

 private:
  CloseCounter counter_;
};

class Echo final : public CountingApp {
 public:
  Task<> onData(ClientId id, websocket::Message message) override {
    const bool binary = message.isBinary();
    std::string payload = co_await message.buffer();
    if (binary) {
      co_await endpoint_->sendBinary(std::move(payload), id);
    } else {
      co_await endpoint_->send(std::move(payload), id);
    }
  }
};

class FanOut final : public CountingApp {
 public:
  Task<> onData(ClientId id, websocket::Message message) override {
    const bool binary = message.isBinary();
    std::string payload = co_await message.buffer();
    const ClientId except[] = {id};
    // Not awaited on purpose (see the file comment): the data is queued when called.
    if (binary) {
      static_cast<void>(endpoint_->broadcastBinary(std::move(payload), except));
    } else {
      static_cast<void>(endpoint_->broadcast(std::move(payload), except));
    }
  }
};

struct Args {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  unsigned workers = 1;
  websocket::Options ws;
  long long heartbeatMs = -1, closePeriodMs = -1, headerTimeoutMs = -1;
  std::size_t maxConnections = 0, connectionsPerIp = 0;
};

// Live heap bytes: small and large (mmapped) blocks in use, summed over all arenas.
std::size_t heapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

int serve(const Args& args) {
  websocket::Options options = args.ws;
  if (args.heartbeatMs >= 0) options.heartbeatPeriod = std::chrono::milliseconds(args.heartbeatMs);
  if (args.closePeriodMs >= 0) options.closePeriod = std::chrono::milliseconds(args.closePeriodMs);
  auto echo = std::make_shared<Echo>();
  auto fanOut = std::make_shared<FanOut>();
  auto abrupt = std::make_shared<Echo>();
  auto stats = [echo, fanOut, abrupt] {
    return "{\"echo\":" + echo->stats() + ",\"fanout\":" + fanOut->stats() +
           ",\"abrupt\":" + abrupt->stats() + ",\"heapInUse\":" + std::to_string(heapInUse()) + "}";
  };
  Router router;
  router.get("/echo", websocket(echo, options))
      .get("/fanout", websocket(fanOut, options))
      .get("/abrupt", websocket(abrupt, options))
      .get("/stats", [stats](http::Request&, http::Response& res) -> Task<> {
        res.setHeader("Content-Type", "application/json");
        std::string body = stats();
        co_await res.send(std::move(body));
      });
  Host host;
  host.expose(args.host, args.port).use(router);
  ServerOptions serverOptions;
  serverOptions.workers = args.workers;
  if (args.maxConnections != 0) serverOptions.maxConnections = args.maxConnections;
  if (args.connectionsPerIp != 0) serverOptions.connectionsPerIp = args.connectionsPerIp;
  if (args.headerTimeoutMs >= 0) {
    serverOptions.headerTimeout = std::chrono::milliseconds(args.headerTimeoutMs);
  }
  Server server(host, serverOptions);
  try {
    server.start();
  } catch (const std::exception& e) {
    std::cerr << "aerie-stress-server: cannot start: " << e.what() << "\n";
    return 1;
  }
  for (const std::string& address : server.boundAddresses()) {
    std::printf("aerie listening on http://%s (%u workers)\n", address.c_str(),
                server.workerCount());
  }
  std::fflush(stdout);
  const int code = server.run();
  std::printf("stats %s\n", stats().c_str());
  std::fflush(stdout);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"aerie-stress-server: WebSocket apps for the hostile-load tests"};
  Args args;
  app.add_option("--host", args.host);
  app.add_option("--port", args.port);
  app.add_option("--workers", args.workers);
  app.add_option("--max-frame-size", args.ws.maxFrameSize);
  app.add_option("--max-message-size", args.ws.maxMessageSize);
  app.add_option("--max-frames-per-second", args.ws.maxFramesPerSecond);
  app.add_option("--max-bytes-per-minute", args.ws.maxBytesPerMinute);
  app.add_option("--heartbeat-ms", args.heartbeatMs);
  app.add_option("--close-period-ms", args.closePeriodMs);
  app.add_option("--high-water-mark", args.ws.highWaterMark);
  app.add_option("--low-water-mark", args.ws.lowWaterMark);
  app.add_option("--max-backpressure", args.ws.maxBackpressure);
  app.add_option("--max-connections", args.maxConnections);
  app.add_option("--connections-per-ip", args.connectionsPerIp);
  app.add_option("--header-timeout-ms", args.headerTimeoutMs);
  CLI11_PARSE(app, argc, argv);
  return serve(args);
}
