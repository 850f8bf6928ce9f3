// aerie-interop-client: the aerie client under the control of a foreign test server.
//
//   aerie-interop-client URL [--subprotocol P]... [--header 'Name: value']... [--deflate]
//
// Connects, prints "open subprotocol=<p>", echoes every message back with its type until
// the connection closes, then prints "closed code=<c> reason=<r>" and exits 0. A failed
// connect prints "error <kind> status=<s>: <what>" and exits 1. The peer (a Python
// websockets or Node ws server) decides what happens and checks the echoes.
#include <cstdio>
#include <cstring>
#include <string>

#include "aerie/aerie.hpp"

using namespace aerie;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s URL [--subprotocol P]... [--header 'N: v']...\n", argv[0]);
    return 2;
  }
  websocket::Handshake handshake(argv[1]);
  bool deflate = false;
  for (int i = 2; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--deflate") {  // no value
      deflate = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", flag.c_str());
      return 2;
    }
    const std::string value = argv[i + 1];
    if (flag == "--subprotocol") {
      handshake.subprotocol(value);
    } else if (flag == "--header") {
      const auto colon = value.find(':');
      handshake.header(value.substr(0, colon),
                       value.substr(value.find_first_not_of(' ', colon + 1)));
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  int status = 0;
  aerie::run([&]() -> Task<> {
    websocket::ClientOptions options;
    options.maxFrameSize = options.maxMessageSize = 64 * 1024 * 1024;
    options.perMessageDeflate = deflate;
    try {
      auto connection = co_await websocket::connect(handshake, options);
      std::printf(
          "open subprotocol=%s extensions=%s\n", connection.subprotocol().c_str(),
          std::string(connection.responseHeaders().get("Sec-WebSocket-Extensions").value_or(""))
              .c_str());
      std::fflush(stdout);
      while (auto message = co_await connection.receive()) {
        const bool binary = message->isBinary();
        std::string payload;
        try {
          payload = co_await message->buffer();
        } catch (const websocket::MessageError&) {
          break;  // the connection failed mid-message; the close below reports it
        }
        try {
          if (binary) {
            co_await connection.sendBinary(payload);
          } else {
            co_await connection.send(payload);
          }
        } catch (const client::ConnectionClosed&) {
          break;
        }
      }
      co_await connection.close();
      std::printf("closed code=%u reason=%s\n", connection.closeCode(),
                  connection.closeReason().c_str());
    } catch (const client::HandshakeError& e) {
      std::printf("error HandshakeError status=%d: %s\n", e.status(), e.what());
      status = 1;
    } catch (const client::Error& e) {
      std::printf("error Error status=0: %s\n", e.what());
      status = 1;
    }
    std::fflush(stdout);
  });
  return status;
}
