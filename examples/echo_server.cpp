// The smallest aerie server: every WebSocket message on /ws comes back to its sender.
//   build/release/bin/echo_server   then connect to ws://127.0.0.1:1337/ws
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
  Host host;
  host.expose("127.0.0.1", 1337).use(router);
  return Server(host).run();  // SIGINT/SIGTERM: graceful stop
}
