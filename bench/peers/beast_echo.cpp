// Boost.Beast WebSocket echo server, written for aerie's benchmark suite (bench/suite.sh):
// the shape of Beast's own websocket_server_async example, one io_context on one thread.
//
//   aerie-peer-beast PORT
//
// Every message goes back with its opcode. Tuned the way a Beast user would for this
// workload, with documented options only: TCP_NODELAY, auto_fragment(false) (Beast's default
// splits a 64 KiB message into 4 KiB frames, 4x the CPU), no permessage-deflate (the load
// generator does not offer it), a message limit large enough for every workload.
// clang-format off
#include <utility>  // Boost 1.74's asio/awaitable.hpp needs std::exchange declared first
// clang-format on
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using Tcp = asio::ip::tcp;

class EchoSession : public std::enable_shared_from_this<EchoSession> {
 public:
  explicit EchoSession(Tcp::socket socket) : stream_(std::move(socket)) {}

  void start() {
    stream_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    stream_.auto_fragment(false);
    stream_.read_message_max(128u << 20);
    stream_.async_accept([self = shared_from_this()](beast::error_code error) {
      if (!error) self->readNext();
    });
  }

 private:
  void readNext() {
    stream_.async_read(message_, [self = shared_from_this()](beast::error_code error, std::size_t) {
      if (error) return;  // closed or failed: the last handler's reference frees the session
      self->echo();
    });
  }

  void echo() {
    stream_.text(stream_.got_text());
    stream_.async_write(message_.data(),
                        [self = shared_from_this()](beast::error_code error, std::size_t) {
                          if (error) return;
                          self->message_.clear();
                          self->readNext();
                        });
  }

  websocket::stream<beast::tcp_stream> stream_;
  beast::flat_buffer message_;
};

void acceptNext(Tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](beast::error_code error, Tcp::socket socket) {
    if (!error) {
      socket.set_option(Tcp::no_delay(true));
      std::make_shared<EchoSession>(std::move(socket))->start();
    }
    acceptNext(acceptor);
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  asio::io_context io(1);
  Tcp::acceptor acceptor(io);
  const Tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  acceptNext(acceptor);
  std::printf("beast echo listening on 127.0.0.1:%u\n", port);
  std::fflush(stdout);
  io.run();
}
