// Seed 004's use case "controlling web browsers via their remote debugging APIs": an aerie
// server serves a page, headless Chromium is started with its DevTools WebSocket, and the
// aerie client drives it over the Chrome DevTools Protocol: open a tab, navigate to the
// page, evaluate JavaScript, take a screenshot.
//
//   build/release/bin/cdp_screenshot [OUT.png] [CHROMIUM]
//
// Prints the evaluated value and writes the PNG (default cdp_screenshot.png).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "aerie/aerie.hpp"
#include "aerie/protocol/base64.hpp"

extern char** environ;

using namespace aerie;
using json = nlohmann::json;

namespace {

constexpr const char* kPage = R"(<!doctype html>
<html><head><title>aerie CDP demo</title></head>
<body style="font: 32px sans-serif; background: #1d3557; color: #f1faee">
<h1>Hello from aerie</h1>
<script>window.answer = 6 * 7; document.body.append("answer: " + window.answer);</script>
</body></html>
)";

/// Headless Chromium with its DevTools endpoint on a free loopback port.
class Chromium {
 public:
  explicit Chromium(const std::string& executable)
      : profile_(std::filesystem::temp_directory_path() /
                 ("aerie-cdp-" + std::to_string(::getpid()))) {
    int pipeFds[2];
    if (::pipe(pipeFds) != 0) throw std::runtime_error("pipe() failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipeFds[0]);
    const std::string userDataDir = "--user-data-dir=" + profile_.string();
    std::vector<std::string> args = {executable,
                                     "--headless",
                                     "--no-sandbox",
                                     "--disable-gpu",
                                     "--disable-background-networking",
                                     "--no-first-run",
                                     "--remote-debugging-address=127.0.0.1",
                                     "--remote-debugging-port=0",
                                     userDataDir,
                                     "about:blank"};
    std::vector<char*> argv;
    for (auto& arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int error =
        ::posix_spawn(&pid_, executable.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipeFds[1]);
    if (error != 0) {
      ::close(pipeFds[0]);
      throw std::runtime_error("cannot start " + executable);
    }
    stderr_ = pipeFds[0];
  }

  ~Chromium() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stderr_ >= 0) ::close(stderr_);
    std::error_code ignored;
    std::filesystem::remove_all(profile_, ignored);
  }

  /// Reads Chromium's stderr until it prints "DevTools listening on ws://...".
  std::string devToolsUrl(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string text;
    const std::string marker = "DevTools listening on ";
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{stderr_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(stderr_, buffer, sizeof buffer);
      if (n <= 0) break;
      text.append(buffer, static_cast<std::size_t>(n));
      const auto at = text.find(marker);
      const auto end = at == std::string::npos ? at : text.find('\n', at);
      if (end != std::string::npos)
        return text.substr(at + marker.size(), end - at - marker.size());
    }
    throw std::runtime_error("Chromium did not print its DevTools URL:\n" + text);
  }

 private:
  std::filesystem::path profile_;
  pid_t pid_ = -1;
  int stderr_ = -1;
};

/// A DevTools Protocol session over one aerie client connection.
class DevTools {
 public:
  explicit DevTools(websocket::Connection connection) : connection_(std::move(connection)) {}

  /// Sends a command and returns its result; events that arrive meanwhile are remembered.
  Task<json> call(std::string method, json params = json::object(), std::string session = {}) {
    json command = {{"id", ++lastId_}, {"method", method}, {"params", params}};
    if (!session.empty()) command["sessionId"] = session;
    co_await connection_.send(command.dump());
    while (true) {
      json message = co_await next();
      if (message.value("id", 0) != lastId_) continue;
      if (message.contains("error")) {
        throw std::runtime_error(method + " failed: " + message["error"].dump());
      }
      co_return message["result"];
    }
  }

  /// Waits for the event `method` (it may have arrived during an earlier call).
  Task<> waitFor(const std::string& method) {
    while (!seen(method))
      (void)co_await next();
  }

  Task<> close() { co_await connection_.close(); }

 private:
  Task<json> next() {
    auto message = co_await connection_.receive();
    if (!message) throw std::runtime_error("the DevTools connection closed");
    json parsed = json::parse(co_await message->buffer());
    if (parsed.contains("method")) events_.push_back(parsed["method"].get<std::string>());
    co_return parsed;
  }
  bool seen(const std::string& method) const {
    for (const auto& event : events_)
      if (event == method) return true;
    return false;
  }

  websocket::Connection connection_;
  int lastId_ = 0;
  std::vector<std::string> events_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string output = argc > 1 ? argv[1] : "cdp_screenshot.png";
  const std::string executable = argc > 2 ? argv[2] : "/usr/bin/chromium";

  // The page, served by aerie on a free loopback port.
  Router router;
  router.get("/", [](http::Request&, http::Response& res) -> Task<> {
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    co_await res.send(kPage);
  });
  Host host;
  host.expose("127.0.0.1", 0).use(router);
  ServerOptions serverOptions;
  serverOptions.workers = 1;
  serverOptions.handleSignals = false;
  Server server(host, serverOptions);
  server.start();
  const std::string pageUrl = "http://" + server.boundAddresses().at(0) + "/";

  int status = 0;
  try {
    Chromium chromium(executable);
    const std::string devTools = chromium.devToolsUrl(std::chrono::seconds(30));
    aerie::run([&]() -> Task<> {
      client::Options options;
      options.maxMessageSize = options.maxFrameSize = 64 * 1024 * 1024;  // screenshots are big
      DevTools cdp(co_await websocket::connect(devTools, options));

      // (Parameters are built before each co_await: GCC 12 miscompiles braced JSON
      // initialisers inside a co_await expression.)
      json params = {{"url", "about:blank"}};
      const json target = co_await cdp.call("Target.createTarget", params);
      params = {{"targetId", target["targetId"]}, {"flatten", true}};
      const json attached = co_await cdp.call("Target.attachToTarget", params);
      const std::string session = attached["sessionId"];

      co_await cdp.call("Page.enable", json::object(), session);
      params = {{"url", pageUrl}};
      co_await cdp.call("Page.navigate", params, session);
      co_await cdp.waitFor("Page.loadEventFired");

      params = {{"expression", "document.title + ': ' + window.answer"}, {"returnByValue", true}};
      const json evaluated = co_await cdp.call("Runtime.evaluate", params, session);
      std::printf("evaluated: %s\n", evaluated["result"]["value"].get<std::string>().c_str());

      params = {{"format", "png"}};
      const json shot = co_await cdp.call("Page.captureScreenshot", params, session);
      const auto png = protocol::base64Decode(shot["data"].get<std::string>());
      if (!png) throw std::runtime_error("the screenshot is not valid base64");
      std::ofstream(output, std::ios::binary)
          .write(png->data(), static_cast<std::streamsize>(png->size()));
      std::printf("screenshot: %s (%zu bytes)\n", output.c_str(), png->size());

      co_await cdp.close();
    });
  } catch (const std::exception& error) {
    std::fprintf(stderr, "cdp_screenshot: %s\n", error.what());
    status = 1;
  }
  server.stop();
  return status;
}
