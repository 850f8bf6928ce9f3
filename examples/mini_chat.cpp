// Seed 001's MiniChat: welcome broadcast, "Client N said" five seconds later, close notices.
//   build/release/bin/mini_chat   then open http://127.0.0.1:1337/ in two browser tabs
#include <aerie/aerie.hpp>
#include <filesystem>

using namespace aerie;
using namespace std::chrono_literals;

class MiniChat final : public websocket::Handler {
 public:
  void onStart(websocket::Endpoint& endpoint) override { ws_ = &endpoint; }

  Task<> onOpen(ClientId id, std::any) override {
    co_await ws_->broadcast("Welcome new client " + std::to_string(id) + "!");
  }

  Task<> onData(ClientId id, websocket::Message msg) override {
    std::string text = co_await msg.buffer();
    co_await ws_->send("<i>Message received ... Sending in 5 seconds ...</i>", id);
    co_await delay(5s);
    co_await ws_->broadcast("Client " + std::to_string(id) + " said: " + text);
  }

  Task<> onClose(ClientId id, std::uint16_t code, std::string_view) override {
    co_await ws_->broadcast("User with client id " + std::to_string(id) +
                            " closed connection with code " + std::to_string(code));
  }

 private:
  websocket::Endpoint* ws_ = nullptr;
};

int main(int argc, char** argv) {
  // The page lives next to the sources; pass another directory as the first argument.
  const std::filesystem::path pub = argc > 1 ? argv[1] : AERIE_EXAMPLES_DIR "/public";
  Router router;
  router.get("/ws", websocket(std::make_shared<MiniChat>()));
  Host host;
  host.expose("127.0.0.1", 1337).use(router).use(root(pub));
  return Server(host).run();
}
