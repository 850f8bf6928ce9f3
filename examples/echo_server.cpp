// The smallest aerie server: every WebSocket message on /ws comes back to its sender, and
// so does every HTTP upload to /upload, streamed in both directions.
//   build/release/bin/echo_server   then connect to ws://127.0.0.1:1337/ws
//   curl -T big.file -X POST http://127.0.0.1:1337/upload -o copy.file
#include <aerie/aerie.hpp>

using namespace aerie;

struct Echo final : websocket::Handler {
  websocket::Endpoint* ws = nullptr;

  void onStart(websocket::Endpoint& endpoint) override { ws = &endpoint; }

  Task<> onData(ClientId id, websocket::Message msg) override {
    const bool binary = msg.isBinary();
    std::string payload = co_await msg.buffer();
    if (binary) {
      co_await ws->sendBinary(std::move(payload), id);
    } else {
      co_await ws->send(std::move(payload), id);
    }
  }
};

int main() {
  Router router;
  router.get("/ws", websocket(std::make_shared<Echo>()));
  // Each piece of the body is written back as it arrives: the upload is read only as fast
  // as the client takes the response (backpressure both ways), up to 1 GiB.
  RouteOptions upload;
  upload.maxBodySize = std::uint64_t{1} << 30;
  router.post(
      "/upload",
      [](http::Request& req, http::Response& res) -> Task<> {
        res.setHeader("Content-Type", "application/octet-stream");
        while (std::optional<std::string> chunk = co_await req.read()) {
          co_await res.write(std::move(*chunk));
        }
        co_await res.end();
      },
      upload);
  Host host;
  host.expose("127.0.0.1", 1337).use(router);
  return Server(host).run();  // SIGINT/SIGTERM: graceful stop
}
