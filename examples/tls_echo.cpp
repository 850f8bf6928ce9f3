// An echo server over TLS and a client that talks to it over wss://, in one program:
//   tls_echo CERT.pem KEY.pem CA.pem     (tests/support/make_test_certs.sh makes a set)
// The server serves wss://localhost:8443/ws (SIGHUP reloads CERT/KEY); the client trusts CA.pem,
// sends a message, prints the echo and stops the server.
#include <aerie/aerie.hpp>
#include <cstdio>
#include <thread>

using namespace aerie;

struct Echo final : websocket::Handler {
  websocket::Endpoint* ws = nullptr;
  void onStart(websocket::Endpoint& endpoint) override { ws = &endpoint; }
  Task<> onData(ClientId id, websocket::Message msg) override {
    co_await ws->send(co_await msg.buffer(), id);
  }
};

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: tls_echo CERT.pem KEY.pem CA.pem\n");
    return 2;
  }
  Router router;
  router.get("/ws", websocket(std::make_shared<Echo>()));
  Host host;
  host.expose("127.0.0.1", 8443).use(router).encrypt(argv[1], argv[2]);
  Server server(host);
  server.start();  // throws with the file and the reason if a certificate cannot be used

  int status = 1;
  aerie::run([&]() -> Task<> {
    websocket::ConnectOptions options;
    options.tls.caFile = argv[3];  // verification stays on: trust the test CA
    auto connection = co_await websocket::connect("wss://localhost:8443/ws", options);
    co_await connection.send("hello over TLS");
    if (auto message = co_await connection.receive()) {
      std::printf("echo: %s (%s)\n", (co_await message->buffer()).c_str(),
                  connection.getInfo().extensions.c_str());
      status = 0;
    }
    co_await connection.close();
  });
  server.stop();
  return status;
}
