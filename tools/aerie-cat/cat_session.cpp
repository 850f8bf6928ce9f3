#include "cat_session.hpp"

#include <algorithm>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

#include "aerie/client/connect.hpp"
#include "aerie/core/run.hpp"
#include "async_wait.hpp"
#include "net/loop.hpp"
#include "output.hpp"
#include "stdin_reader.hpp"
#include "task_group.hpp"

namespace aerie::cat {
namespace {

void note(const std::string& text) {
  std::fprintf(stderr, "aerie-cat: %s\n", text.c_str());
}

Task<> closeNormally(client::Connection connection) {
  co_await connection.close(1000);
}

/// SIGINT or SIGTERM starts the close handshake (1000); a second one exits at once, as a
/// server that never answers would otherwise hold us for Options::closePeriod.
Task<> closeOnSignal(asio::signal_set& signals, client::Connection connection, TaskGroup& tasks,
                     const bool& sessionEnded) {
  bool closing = false;
  for (;;) {
    const std::error_code error = co_await AsyncWait(signals);
    if (error || sessionEnded) co_return;
    if (closing) {
      std::fputs("aerie-cat: interrupted\n", stderr);
      std::_Exit(130);
    }
    closing = true;
    tasks.spawn(closeNormally(connection));
  }
}

Task<> pingEvery(asio::steady_timer& timer, std::chrono::milliseconds period,
                 client::Connection connection, bool verbose) {
  for (;;) {
    timer.expires_after(period);
    if (co_await AsyncWait(timer)) co_return;  // cancelled: the session ended
    if (connection.isClosed()) co_return;
    try {
      connection.ping();
    } catch (const client::ConnectionClosed&) {
      co_return;  // closing
    }
    if (verbose) note("ping sent");
  }
}

/// Sends each line of stdin; at its end, closes with 1000 (the session then ends when the
/// server's close arrives).
Task<> sendStdinLines(StdinReader& reader, client::Connection connection, bool binary) {
  for (;;) {
    std::optional<std::string> line;
    try {
      line = co_await reader.next();
    } catch (const std::system_error& e) {
      note(e.what());  // stdin is unusable: end as at its end
    }
    if (!line) break;
    if (connection.isClosed()) co_return;
    try {
      if (binary) {
        co_await connection.sendBinary(*line);
      } else {
        co_await connection.send(*line);
      }
    } catch (const std::invalid_argument& e) {
      note(std::string("line not sent: ") + e.what() + " (--binary sends lines as bytes)");
    } catch (const client::ConnectionClosed&) {
      co_return;
    }
  }
  if (reader.stopped()) co_return;  // the connection ended first
  co_await connection.close(1000);
}

Task<> echoBack(client::Connection& connection, const std::string& payload, bool binary) {
  try {
    if (binary) {
      co_await connection.sendBinary(payload);
    } else {
      co_await connection.send(payload);
    }
  } catch (const client::ConnectionClosed&) {
    // The connection is closing: receive() ends the session.
  }
}

client::Handshake makeHandshake(const CatOptions& options) {
  client::Handshake handshake(options.url);
  for (const auto& [name, value] : options.headers)
    handshake.header(name, value);
  for (const std::string& protocol : options.subprotocols)
    handshake.subprotocol(protocol);
  handshake.withOrigin(options.origin);
  return handshake;
}

Task<int> session(const CatOptions& options) {
  client::Connection connection =
      co_await client::connect(makeHandshake(options), options.connect, options.client);
  if (options.verbose) {
    std::string text = "connected to " + connection.remoteAddress();
    if (!connection.subprotocol().empty()) text += ", subprotocol " + connection.subprotocol();
    if (auto extensions = connection.responseHeaders().get("Sec-WebSocket-Extensions")) {
      text += ", extensions: ";
      text += *extensions;
    }
    note(text);
  }

  asio::io_context& io = net::Loop::current()->io();
  std::optional<StdinReader> reader;
  if (!options.echo) reader.emplace(io);  // first: once tasks run, nothing may throw
  TaskGroup tasks(io);
  bool sessionEnded = false;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  tasks.spawn(closeOnSignal(signals, connection, tasks, sessionEnded));
  asio::steady_timer pingTimer(io);
  if (options.pingIntervalSeconds > 0) {
    const auto period = std::max(std::chrono::milliseconds(1),
                                 std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::duration<double>(options.pingIntervalSeconds)));
    tasks.spawn(pingEvery(pingTimer, period, connection, options.verbose));
  }
  if (reader) tasks.spawn(sendStdinLines(*reader, connection, options.binaryInput));

  while (std::optional<ws::Message> message = co_await connection.receive()) {
    const bool binary = message->isBinary();
    std::string payload;
    try {
      payload = co_await message->buffer();
    } catch (const ws::MessageError&) {
      continue;  // the connection failed mid-message: receive() ends next
    }
    if (options.echo) {
      if (options.verbose) {
        note(std::string("echoing ") + (binary ? "binary" : "text") + " message of " +
             std::to_string(payload.size()) + " bytes");
      }
      co_await echoBack(connection, payload, binary);
    } else {
      printLine(describeMessage(payload, binary, options.binaryHex));
    }
  }

  // Closed: wind the helpers down before the objects they use go away.
  sessionEnded = true;
  signals.cancel();
  pingTimer.cancel();
  if (reader) reader->stop();
  co_await tasks.join();

  const std::uint16_t code = connection.closeCode();
  const std::string reason = connection.closeReason();
  if (options.showClose) std::fprintf(stderr, "closed: %s\n", describeClose(code, reason).c_str());
  if (options.echo || isNormalClose(code)) co_return kExitNormalClose;
  if (!options.showClose) note("connection closed with " + describeClose(code, reason));
  co_return kExitAbnormalClose;
}

}  // namespace

int runCat(const CatOptions& options) {
  int exitCode = kExitConnectFailed;
  try {
    aerie::run([&]() -> Task<> { exitCode = co_await session(options); });
  } catch (const client::InvalidArgument& e) {
    note(e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    note(e.what());
    return kExitConnectFailed;
  }
  return exitCode;
}

}  // namespace aerie::cat
