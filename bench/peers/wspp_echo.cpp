// websocketpp echo server, written for aerie's benchmark suite (bench/suite.sh): the
// library's asio_no_tls configuration with standalone Asio, one thread.
//
//   aerie-peer-wspp PORT
//
// Every message goes back with its opcode. Tuned as a websocketpp user would for a
// benchmark: logging off (its access log writes a line per frame), TCP_NODELAY on accepted
// sockets, a message limit large enough for every workload.
#include <cstdio>
#include <cstdlib>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

using EchoServer = websocketpp::server<websocketpp::config::asio>;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  EchoServer server;
  server.clear_access_channels(websocketpp::log::alevel::all);
  server.clear_error_channels(websocketpp::log::elevel::all);
  server.init_asio();
  server.set_reuse_addr(true);
  server.set_listen_backlog(4096);
  server.set_max_message_size(128u << 20);
  // The socket is open once the TCP connection is accepted, before the handshake.
  server.set_tcp_post_init_handler([&server](websocketpp::connection_hdl connection) {
    websocketpp::lib::error_code ignored;
    server.get_con_from_hdl(connection)
        ->get_socket()
        .set_option(websocketpp::lib::asio::ip::tcp::no_delay(true), ignored);
  });
  server.set_message_handler(
      [&server](websocketpp::connection_hdl connection, EchoServer::message_ptr message) {
        websocketpp::lib::error_code ignored;
        server.send(connection, message->get_payload(), message->get_opcode(), ignored);
      });
  server.listen(websocketpp::lib::asio::ip::tcp::endpoint(
      websocketpp::lib::asio::ip::make_address("127.0.0.1"), port));
  server.start_accept();
  std::printf("websocketpp echo listening on 127.0.0.1:%u\n", port);
  std::fflush(stdout);
  server.run();
}
