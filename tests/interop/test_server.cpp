// aerie-test-server: an aerie server whose WebSocket apps make handler semantics visible
// to black-box clients (the Python `websockets` and Node `ws` interop tests).
//
//   aerie-test-server --port 0 --workers 2 [--events-file F] [limit flags]
//
// Prints "aerie listening on http://127.0.0.1:P (N workers)" once accepting.
//
// Apps (every one records its callbacks in the event log, see EventLog):
//   /echo       echoes each message with its opcode
//   /broadcast  each message goes to every other client (exceptIds = {sender})
//   /multicast  sends "id:N" on open; "to:I,J:text" multicast, "binto:I,J:text"
//               multicastBinary, "except:I,J:text" broadcast(text, {I,J}),
//               "binexcept:I,J:text" broadcastBinary, "all:text" broadcast to everyone
//   /info       "id" -> "id:N"; "info" -> JSON getInfo(self); "info:N" -> JSON getInfo(N)
//               or "null"; "clients" -> JSON getClients(); anything else is echoed
//   /close      "CODE REASON" -> close(self, CODE, REASON), then a send that must be a no-op
//   /deny       onHandshake answers 403 "denied by test" (X-Denied: yes) unless ?allow=1
//   /events     sends "id:N" on open; "dump" -> the event log (lines joined by '\n');
//               anything else is echoed. onStop: "stopping" broadcast, --stop-delay-ms
//               pause, "Byebye!" broadcast.
//   /welcome    seed 002: "Heyho!" on open, echo, "Byebye!" broadcast on stop
//   /slow       "flood N SIZE await|nowait" -> N binary messages of SIZE bytes (the first 4
//               bytes: the index, big-endian), each send awaited or not, then "flood-done";
//               anything else is echoed
//   /slowopen   onOpen records "open", waits --open-delay-ms, records "open-done", sends
//               "opened"; then echo
//   /slowhandshake  onHandshake waits ?ms=N milliseconds; then echo
//   /stream     streams each message with Message::read(): "chunk:N" per chunk as it
//               arrives, then "end:CHUNKS:BYTES"
//   /throw      onHandshake hands the query string to onOpen, which throws for
//               "open=throw" and otherwise sends "hs:<query>"; "throw" makes onData throw;
//               "badutf8" tries send() with invalid UTF-8 and replies "refused" if it threw
//
// HTTP request bodies (POST):
//   /upload         reads the body with Request::read() (limit 64 MiB) and echoes it;
//                   X-Reads: the number of pieces it came in
//   /upload/small   body() with a route limit of 1024 bytes; answers "got N"
//   /upload/refuse  answers 401 without reading the body
#include <CLI/CLI.hpp>
#include <aerie/aerie.hpp>
#include <aerie/protocol/utf8.hpp>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace aerie;

/// Every callback of every app, in the order they ran (across threads: under a mutex).
/// Lines: "open APP ID", "data APP ID T|B SIZE [TEXT]", "close APP ID CODE REASON",
/// "closeinfo APP ID CODE REASON" (getInfo inside onClose), "stop APP", "stop-done APP",
/// "flood-done APP ID N". Optionally mirrored to a file, flushed per line, so a test can
/// read what happened after the server exited.
class EventLog {
 public:
  void openFile(const std::string& path) {
    file_ = std::fopen(path.c_str(), "w");
    if (file_ == nullptr) throw std::runtime_error("cannot open events file " + path);
  }
  void record(std::string line) {
    std::lock_guard lock(mutex_);
    if (file_ != nullptr) {
      std::fprintf(file_, "%s\n", line.c_str());
      std::fflush(file_);
    }
    lines_.push_back(std::move(line));
  }
  std::string dump() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const std::string& line : lines_) {
      if (!out.empty()) out += '\n';
      out += line;
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  std::FILE* file_ = nullptr;
};

EventLog events;

std::vector<ClientId> parseIds(std::string_view list) {
  std::vector<ClientId> ids;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    ClientId id = 0;
    if (std::from_chars(item.data(), item.data() + item.size(), id).ec == std::errc{}) {
      ids.push_back(id);
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return ids;
}

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string infoJson(const std::optional<websocket::ClientInfo>& info) {
  if (!info) return "null";
  std::string out = "{";
  auto field = [&out](const char* name, long long value) {
    if (out.size() > 1) out += ',';
    out += '"';
    out += name;
    out += "\":" + std::to_string(value);
  };
  field("bytesRead", static_cast<long long>(info->bytesRead));
  field("bytesSent", static_cast<long long>(info->bytesSent));
  field("framesRead", static_cast<long long>(info->framesRead));
  field("framesSent", static_cast<long long>(info->framesSent));
  field("messagesRead", static_cast<long long>(info->messagesRead));
  field("messagesSent", static_cast<long long>(info->messagesSent));
  field("connectedAt", info->connectedAt);
  field("closedAt", info->closedAt);
  field("lastReadAt", info->lastReadAt);
  field("lastSentAt", info->lastSentAt);
  field("lastDataReadAt", info->lastDataReadAt);
  field("lastDataSentAt", info->lastDataSentAt);
  field("closeCode", info->closeCode);
  return out + ",\"closeReason\":" + jsonString(info->closeReason) + "}";
}

/// Records the callbacks every app shares; subclasses add their behaviour.
class TestApp : public websocket::Handler {
 public:
  explicit TestApp(std::string name) : name_(std::move(name)) {}

  void onStart(websocket::Endpoint& endpoint) override { endpoint_ = &endpoint; }

  Task<> onOpen(ClientId id, std::any) override {
    events.record("open " + name_ + " " + std::to_string(id));
    co_return;
  }

  Task<> onData(ClientId id, websocket::Message message) override {
    const bool binary = message.isBinary();
    std::string payload = co_await message.buffer();
    std::string line = "data " + name_ + " " + std::to_string(id) + (binary ? " B " : " T ") +
                       std::to_string(payload.size());
    if (!binary && payload.size() <= 200) {
      // The log is sent as text: keep it valid UTF-8 (validateUtf8 may be off).
      line += protocol::isValidUtf8(payload) ? " " + payload : std::string(" <invalid UTF-8>");
    }
    events.record(std::move(line));
    co_await handle(id, binary, std::move(payload));
  }

  Task<> onClose(ClientId id, std::uint16_t code, std::string_view reason) override {
    events.record("close " + name_ + " " + std::to_string(id) + " " + std::to_string(code) + " " +
                  std::string(reason));
    co_return;
  }

  Task<> onStop() override {
    events.record("stop " + name_);
    co_await stopping();
    events.record("stop-done " + name_);
  }

 protected:
  /// A complete message (already recorded).
  virtual Task<> handle(ClientId id, bool binary, std::string payload) {
    co_await echo(id, binary, std::move(payload));
  }
  virtual Task<> stopping() { co_return; }

  websocket::SendAwaitable echo(ClientId id, bool binary, std::string payload) {
    return binary ? endpoint_->sendBinary(std::move(payload), id)
                  : endpoint_->send(std::move(payload), id);
  }

  std::string name_;
  websocket::Endpoint* endpoint_ = nullptr;
};

class Echo final : public TestApp {
 public:
  Echo() : TestApp("echo") {}
};

class Broadcast final : public TestApp {
 public:
  Broadcast() : TestApp("broadcast") {}

 protected:
  Task<> handle(ClientId id, bool binary, std::string payload) override {
    const ClientId except[] = {id};
    if (binary) {
      co_await endpoint_->broadcastBinary(std::move(payload), except);
    } else {
      co_await endpoint_->broadcast(std::move(payload), except);
    }
  }
};

class Multicast final : public TestApp {
 public:
  Multicast() : TestApp("multicast") {}
  Task<> onOpen(ClientId id, std::any data) override {
    co_await TestApp::onOpen(id, std::move(data));
    co_await endpoint_->send("id:" + std::to_string(id), id);
  }

 protected:
  Task<> handle(ClientId id, bool binary, std::string payload) override {
    const std::string_view text = payload;
    const std::size_t colon = text.find(':');
    const std::string_view command = text.substr(0, colon);
    if (colon == std::string_view::npos || binary) {
      co_await echo(id, binary, std::move(payload));
      co_return;
    }
    if (command == "all") {
      co_await endpoint_->broadcast(std::string(text.substr(colon + 1)));
      co_return;
    }
    const std::size_t second = text.find(':', colon + 1);
    if (second == std::string_view::npos) {
      co_await endpoint_->send("error: expected COMMAND:IDS:TEXT", id);
      co_return;
    }
    const std::vector<ClientId> ids = parseIds(text.substr(colon + 1, second - colon - 1));
    std::string body(text.substr(second + 1));
    if (command == "to") {
      co_await endpoint_->multicast(std::move(body), ids);
    } else if (command == "binto") {
      co_await endpoint_->multicastBinary(std::move(body), ids);
    } else if (command == "except") {
      co_await endpoint_->broadcast(std::move(body), ids);
    } else if (command == "binexcept") {
      co_await endpoint_->broadcastBinary(std::move(body), ids);
    } else {
      co_await endpoint_->send("error: unknown command", id);
    }
  }
};

class Info final : public TestApp {
 public:
  Info() : TestApp("info") {}
  Task<> onClose(ClientId id, std::uint16_t code, std::string_view reason) override {
    // Aerys keeps the close code and reason in the client's info until onClose returned.
    const auto info = endpoint_->getInfo(id);
    events.record("closeinfo info " + std::to_string(id) + " " +
                  (info ? std::to_string(info->closeCode) + " " + info->closeReason : "none"));
    co_await TestApp::onClose(id, code, reason);
  }

 protected:
  Task<> handle(ClientId id, bool binary, std::string payload) override {
    if (binary) {
      co_await echo(id, binary, std::move(payload));
    } else if (payload == "id") {
      co_await endpoint_->send("id:" + std::to_string(id), id);
    } else if (payload == "info") {
      co_await endpoint_->send(infoJson(endpoint_->getInfo(id)), id);
    } else if (payload.starts_with("info:")) {
      const std::vector<ClientId> ids = parseIds(std::string_view(payload).substr(5));
      // Computed before the co_await statement: g++ 12 mis-destroys temporaries of a
      // conditional expression inside a co_await full-expression (double free).
      std::optional<websocket::ClientInfo> info;
      if (!ids.empty()) info = endpoint_->getInfo(ids[0]);
      std::string json = infoJson(info);
      co_await endpoint_->send(std::move(json), id);
    } else if (payload == "clients") {
      std::string out = "[";
      for (const ClientId client : endpoint_->getClients()) {
        if (out.size() > 1) out += ',';
        out += std::to_string(client);
      }
      co_await endpoint_->send(out + "]", id);
    } else {
      co_await echo(id, binary, std::move(payload));
    }
  }
};

class Close final : public TestApp {
 public:
  Close() : TestApp("close") {}

 protected:
  Task<> handle(ClientId id, bool binary, std::string payload) override {
    std::uint16_t code = 0;
    const char* end = payload.data() + payload.size();
    const auto parsed = std::from_chars(payload.data(), end, code);
    if (binary || parsed.ec != std::errc{}) {
      co_await echo(id, binary, std::move(payload));
      co_return;
    }
    std::string_view reason(parsed.ptr, static_cast<std::size_t>(end - parsed.ptr));
    if (!reason.empty() && reason.front() == ' ') reason.remove_prefix(1);
    endpoint_->close(id, code, reason);
    // After close() the client must see nothing more but the close frame.
    co_await endpoint_->send("after-close", id);
  }
};

class Deny final : public TestApp {
 public:
  Deny() : TestApp("deny") {}
  Task<std::any> onHandshake(http::Request& request, http::Response& response) override {
    if (request.queryParam("allow") != "1") {
      response.setStatus(403);
      response.setHeader("X-Denied", "yes");
      response.setHeader("Content-Type", "text/plain");
      co_await response.send("denied by test");
    }
    co_return std::any{};
  }
};

class Events final : public TestApp {
 public:
  explicit Events(std::chrono::milliseconds stopDelay) : TestApp("events"), stopDelay_(stopDelay) {}
  Task<> onOpen(ClientId id, std::any data) override {
    co_await TestApp::onOpen(id, std::move(data));
    co_await endpoint_->send("id:" + std::to_string(id), id);
  }

 protected:
  Task<> handle(ClientId id, bool binary, std::string payload) override {
    if (!binary && payload == "dump") {
      co_await endpoint_->send(events.dump(), id);
    } else {
      co_await echo(id, binary, std::move(payload));
    }
  }
  Task<> stopping() override {
    co_await endpoint_->broadcast("stopping");
    co_await delay(stopDelay_);
    co_await endpoint_->broadcast("Byebye!");
  }

 private:
  std::chrono::milliseconds stopDelay_;
};

class Welcome final : public TestApp {
 public:
  Welcome() : TestApp("welcome") {}
  Task<> onOpen(ClientId id, std::any data) override {
    co_await TestApp::onOpen(id, std::move(data));
    co_await endpoint_->send("Heyho!", id);
  }

 protected:
  Task<> stopping() override { co_await endpoint_->broadcast("Byebye!"); }
};

class Slow final : public TestApp {
 public:
  Slow() : TestApp("slow") {}

 protected:
  Task<> handle(ClientId id, bool binary, std::string payload) override {
    unsigned count = 0;
    std::size_t size = 0;
    char mode[16] = {};
    if (binary || std::sscanf(payload.c_str(), "flood %u %zu %15s", &count, &size, mode) != 3) {
      co_await echo(id, binary, std::move(payload));
      co_return;
    }
    const bool await = std::string_view(mode) == "await";
    size = std::max<std::size_t>(size, 4);
    unsigned sent = 0;
    for (unsigned i = 0; i < count; ++i, ++sent) {
      // Stop producing once the client is gone (e.g. closed as a slow consumer), as an
      // application would: the test then measures the server's buffering, not ours.
      const auto info = endpoint_->getInfo(id);
      if (!info || info->closedAt != 0) break;
      std::string chunk(size, 'x');
      chunk[0] = static_cast<char>(i >> 24);
      chunk[1] = static_cast<char>(i >> 16);
      chunk[2] = static_cast<char>(i >> 8);
      chunk[3] = static_cast<char>(i);
      if (await) {
        co_await endpoint_->sendBinary(std::move(chunk), id);
      } else {
        (void)endpoint_->sendBinary(std::move(chunk), id);  // awaiting is optional
      }
    }
    events.record("flood-done slow " + std::to_string(id) + " " + std::to_string(sent));
    co_await endpoint_->send("flood-done", id);
  }
};

class Throw final : public TestApp {
 public:
  Throw() : TestApp("throw") {}
  Task<std::any> onHandshake(http::Request& request, http::Response&) override {
    co_return std::string(request.query());
  }
  Task<> onOpen(ClientId id, std::any data) override {
    co_await TestApp::onOpen(id, data);
    const auto* query = std::any_cast<std::string>(&data);
    if (query == nullptr) throw std::logic_error("handshake data lost");
    if (*query == "open=throw") throw std::runtime_error("onOpen throws on request");
    co_await endpoint_->send("hs:" + *query, id);
  }

 protected:
  Task<> handle(ClientId id, bool binary, std::string payload) override {
    if (!binary && payload == "throw") throw std::runtime_error("onData throws on request");
    if (!binary && payload == "badutf8") {
      bool refused = false;
      try {
        (void)endpoint_->send(std::string("bad \xff\xfe utf-8"), id);
      } catch (const std::invalid_argument&) {
        refused = true;
      }
      co_await endpoint_->send(refused ? "refused" : "accepted", id);
      co_return;
    }
    co_await echo(id, binary, std::move(payload));
  }
};

/// onOpen takes a while (records "open", waits --open-delay-ms, records "open-done", sends
/// "opened"): messages that arrive meanwhile must wait for it, a close must follow it.
class SlowOpen final : public TestApp {
 public:
  explicit SlowOpen(std::chrono::milliseconds openDelay)
      : TestApp("slowopen"), openDelay_(openDelay) {}
  Task<> onOpen(ClientId id, std::any data) override {
    co_await TestApp::onOpen(id, std::move(data));
    co_await delay(openDelay_);
    events.record("open-done slowopen " + std::to_string(id));
    co_await endpoint_->send("opened", id);
  }

 private:
  std::chrono::milliseconds openDelay_;
};

/// onHandshake takes ?ms=N milliseconds (records "handshake" and "handshake-done"):
/// exercises the handshake timeout.
class SlowHandshake final : public TestApp {
 public:
  SlowHandshake() : TestApp("slowhs") {}
  Task<std::any> onHandshake(http::Request& request, http::Response&) override {
    const std::string ms = request.queryParam("ms");
    long long wait = 0;
    std::from_chars(ms.data(), ms.data() + ms.size(), wait);
    events.record("handshake slowhs " + ms);
    co_await delay(std::chrono::milliseconds(wait));
    events.record("handshake-done slowhs " + ms);
    co_return std::any{};
  }
};

/// Streams each message (Message::read()): "chunk:N" per chunk as it arrives, then
/// "end:CHUNKS:BYTES"; a client gone mid-message is recorded as "stream-error stream ID".
class Stream final : public TestApp {
 public:
  Stream() : TestApp("stream") {}
  Task<> onData(ClientId id, websocket::Message message) override {
    events.record("data stream " + std::to_string(id) + (message.isBinary() ? " B" : " T"));
    std::size_t chunks = 0;
    std::size_t bytes = 0;
    try {
      while (auto chunk = co_await message.read()) {
        ++chunks;
        bytes += chunk->size();
        co_await endpoint_->send("chunk:" + std::to_string(chunk->size()), id);
      }
    } catch (const websocket::MessageError&) {
      events.record("stream-error stream " + std::to_string(id));
      co_return;
    }
    co_await endpoint_->send("end:" + std::to_string(chunks) + ":" + std::to_string(bytes), id);
  }
};

struct Args {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  unsigned workers = 1;
  std::string eventsFile;
  long long stopDelayMs = 300;
  long long openDelayMs = 300;
  websocket::Options ws;
  long long heartbeatMs = -1, closePeriodMs = -1, idleTimeoutMs = -1, handshakeTimeoutMs = -1;
  long long shutdownTimeoutMs = -1;
  long long headerTimeoutMs = -1;
  std::size_t maxConnections = 0, connectionsPerIp = 0;
};

int serve(const Args& args) {
  if (!args.eventsFile.empty()) events.openFile(args.eventsFile);
  websocket::Options options = args.ws;
  if (args.heartbeatMs >= 0) options.heartbeatPeriod = std::chrono::milliseconds(args.heartbeatMs);
  if (args.closePeriodMs >= 0) options.closePeriod = std::chrono::milliseconds(args.closePeriodMs);
  if (args.idleTimeoutMs >= 0) options.idleTimeout = std::chrono::milliseconds(args.idleTimeoutMs);
  if (args.handshakeTimeoutMs >= 0) {
    options.handshakeTimeout = std::chrono::milliseconds(args.handshakeTimeoutMs);
  }
  Router router;
  router.get("/echo", websocket(std::make_shared<Echo>(), options))
      .get("/broadcast", websocket(std::make_shared<Broadcast>(), options))
      .get("/multicast", websocket(std::make_shared<Multicast>(), options))
      .get("/info", websocket(std::make_shared<Info>(), options))
      .get("/close", websocket(std::make_shared<Close>(), options))
      .get("/deny", websocket(std::make_shared<Deny>(), options))
      .get(
          "/events",
          websocket(std::make_shared<Events>(std::chrono::milliseconds(args.stopDelayMs)), options))
      .get("/welcome", websocket(std::make_shared<Welcome>(), options))
      .get("/slow", websocket(std::make_shared<Slow>(), options))
      .get("/throw", websocket(std::make_shared<Throw>(), options))
      .get("/stream", websocket(std::make_shared<Stream>(), options))
      .get("/slowhandshake", websocket(std::make_shared<SlowHandshake>(), options))
      .get("/slowopen",
           websocket(std::make_shared<SlowOpen>(std::chrono::milliseconds(args.openDelayMs)),
                     options))
      .get("/", [](http::Request&, http::Response& res) -> Task<> {
        co_await res.send("aerie-test-server\n");
      });
  RouteOptions uploadLimit;
  uploadLimit.maxBodySize = 64 * 1024 * 1024;
  RouteOptions smallLimit;
  smallLimit.maxBodySize = 1024;
  router
      .post(
          "/upload",
          [](http::Request& req, http::Response& res) -> Task<> {
            std::string all;
            int reads = 0;
            while (std::optional<std::string> chunk = co_await req.read()) {
              all += *chunk;
              ++reads;
            }
            res.setHeader("X-Reads", std::to_string(reads));
            co_await res.send(std::move(all));
          },
          uploadLimit)
      .post(
          "/upload/small",
          [](http::Request& req, http::Response& res) -> Task<> {
            const std::string body = co_await req.body();
            co_await res.send("got " + std::to_string(body.size()));
          },
          smallLimit)
      .post("/upload/refuse", [](http::Request&, http::Response& res) -> Task<> {
        res.setStatus(401);
        co_await res.send("not you\n");
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
  if (args.shutdownTimeoutMs >= 0) {
    serverOptions.shutdownTimeout = std::chrono::milliseconds(args.shutdownTimeoutMs);
  }
  Server server(host, serverOptions);
  try {
    server.start();
  } catch (const std::exception& e) {
    std::cerr << "aerie-test-server: cannot start: " << e.what() << "\n";
    return 1;
  }
  for (const std::string& address : server.boundAddresses()) {
    std::printf("aerie listening on http://%s (%u workers)\n", address.c_str(),
                server.workerCount());
  }
  std::fflush(stdout);
  const int code = server.run();
  events.record("exit " + std::to_string(code));
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"aerie-test-server: WebSocket apps for black-box interop tests"};
  Args args;
  app.add_option("--host", args.host);
  app.add_option("--port", args.port);
  app.add_option("--workers", args.workers);
  app.add_option("--events-file", args.eventsFile, "Mirror the event log to this file");
  app.add_option("--stop-delay-ms", args.stopDelayMs, "/events: pause inside onStop");
  app.add_option("--open-delay-ms", args.openDelayMs, "/slowopen: pause inside onOpen");
  app.add_option("--max-frame-size", args.ws.maxFrameSize);
  app.add_option("--max-message-size", args.ws.maxMessageSize);
  app.add_option("--max-frames-per-second", args.ws.maxFramesPerSecond);
  app.add_option("--max-bytes-per-minute", args.ws.maxBytesPerMinute);
  app.add_option("--auto-frame-size", args.ws.autoFrameSize);
  app.add_option("--heartbeat-ms", args.heartbeatMs);
  app.add_option("--queued-ping-limit", args.ws.queuedPingLimit);
  app.add_option("--close-period-ms", args.closePeriodMs);
  app.add_option("--idle-timeout-ms", args.idleTimeoutMs);
  app.add_option("--handshake-timeout-ms", args.handshakeTimeoutMs);
  app.add_option("--high-water-mark", args.ws.highWaterMark);
  app.add_option("--low-water-mark", args.ws.lowWaterMark);
  app.add_option("--max-backpressure", args.ws.maxBackpressure);
  app.add_option("--max-connections", args.maxConnections);
  app.add_option("--connections-per-ip", args.connectionsPerIp);
  app.add_option("--shutdown-timeout-ms", args.shutdownTimeoutMs);
  app.add_option("--header-timeout-ms", args.headerTimeoutMs);
  app.add_flag("--text-only", args.ws.textOnly);
  bool noUtf8 = false;
  app.add_flag("--no-validate-utf8", noUtf8);
  CLI11_PARSE(app, argc, argv);
  args.ws.validateUtf8 = !noUtf8;
  return serve(args);
}
