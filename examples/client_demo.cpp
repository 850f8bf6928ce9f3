// Seed 004's demo with the aerie client: connect to an echo server, say Hello!, answer
// every echo with "Ping: N" after a pause, say Goodbye! after the third, then close.
//
//   build/release/bin/aerie serve --port 1337 --ws /ws=echo &
//   build/release/bin/client_demo ws://127.0.0.1:1337/ws
#include <chrono>
#include <cstdio>
#include <string>

#include "aerie/aerie.hpp"

using namespace aerie;

int main(int argc, char** argv) {
  const std::string url = argc > 1 ? argv[1] : "ws://127.0.0.1:1337/ws";
  const std::chrono::milliseconds pause(argc > 2 ? std::stoi(argv[2]) : 1000);
  try {
    aerie::run([&]() -> Task<> {
      websocket::Connection connection = co_await websocket::connect(url);
      co_await connection.send("Hello!");

      int i = 0;
      while (auto message = co_await connection.receive()) {
        const std::string payload = co_await message->buffer();
        std::printf("Received: %s\n", payload.c_str());
        std::fflush(stdout);

        if (payload == "Goodbye!") {
          co_await connection.close();
          break;
        }

        co_await delay(pause);

        if (i < 3) {
          co_await connection.send("Ping: " + std::to_string(++i));
        } else {
          co_await connection.send("Goodbye!");
        }
      }
    });
  } catch (const client::Error& error) {
    std::fprintf(stderr, "client_demo: %s\n", error.what());
    return 1;
  }
  return 0;
}
