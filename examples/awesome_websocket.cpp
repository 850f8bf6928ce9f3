// Seed 002's full example: "Heyho!" on open, echo, "Byebye!" on stop, and a page on "/".
#include <aerie/aerie.hpp>

using namespace aerie;

class MyAwesomeWebsocket final : public websocket::Handler {
 public:
  void onStart(websocket::Endpoint& endpoint) override { endpoint_ = &endpoint; }

  Task<std::any> onHandshake(http::Request& request, http::Response& response) override {
    // Session checks go here; any status but 101 denies the handshake.
    if (request.header("origin").starts_with("http://evil.")) response.setStatus(403);
    co_return std::any{};
  }

  Task<> onOpen(ClientId id, std::any) override { co_await endpoint_->send("Heyho!", id); }

  Task<> onData(ClientId id, websocket::Message msg) override {
    std::string text = co_await msg.buffer();  // do not forget to wait for the whole message
    co_await endpoint_->send(std::move(text), id);
  }

  Task<> onClose(ClientId, std::uint16_t, std::string_view) override {
    co_return;  // the client is gone: nothing may be sent to it any more
  }

  Task<> onStop() override { co_await endpoint_->broadcast("Byebye!"); }

 private:
  websocket::Endpoint* endpoint_ = nullptr;
};

int main() {
  Router router;
  router.get("/websocket", websocket(std::make_shared<MyAwesomeWebsocket>()))
      .get("/", [](http::Request&, http::Response& res) -> Task<> {
        co_await res.send(R"(<script type="text/javascript">
  ws = new WebSocket("ws://localhost:1337/websocket");
  ws.onopen = function() { ws.send("ping"); };
  ws.onmessage = function(e) { console.log(e.data); };
</script>)");
      });
  Host host;
  host.expose("127.0.0.1", 1337).use(router);
  return Server(host).run();
}
