#include "websocket/app.hpp"

#include <algorithm>
#include <stdexcept>

#include "aerie/core/delay.hpp"
#include "aerie/protocol/frame_writer.hpp"
#include "aerie/protocol/handshake.hpp"
#include "aerie/protocol/header_values.hpp"
#include "aerie/protocol/permessage_deflate.hpp"
#include "aerie/protocol/utf8.hpp"
#include "aerie/server/server.hpp"
#include "core/log.hpp"
#include "server/connection.hpp"
#include "server/millis_stamp.hpp"
#include "server/server_impl.hpp"
#include "server/upgrade.hpp"
#include "server/worker.hpp"
#include "websocket/payload_pool.hpp"
#include "websocket/ws_session.hpp"

namespace aerie::detail {

using protocol::Opcode;

namespace {

constexpr unsigned kWorkerBits = WebsocketApp::kClientIdWorkerBits;
constexpr ClientId kWorkerMask = (ClientId{1} << kWorkerBits) - 1;

unsigned workerOf(ClientId client) noexcept {
  return static_cast<unsigned>(client & kWorkerMask);
}

/// Accepts a handshake: after the 101 head is written, the connection becomes a WsSession.
class WebsocketUpgrade final : public ConnectionUpgrade {
 public:
  WebsocketUpgrade(std::shared_ptr<WebsocketApp> app, std::any data,
                   std::optional<protocol::DeflateParameters> deflate)
      : app_(std::move(app)), data_(std::move(data)), deflate_(deflate) {}
  void takeOver(Connection& connection, std::string pendingBytes) override {
    app_->open(connection, std::move(data_), std::move(pendingBytes), deflate_);
  }

 private:
  std::shared_ptr<WebsocketApp> app_;
  std::any data_;
  std::optional<protocol::DeflateParameters> deflate_;
};

}  // namespace

WebsocketApp::WebsocketApp(std::shared_ptr<ws::Handler> handler, ws::Options options)
    : handler_(std::move(handler)), options_(options) {
  if (!handler_) throw std::invalid_argument("websocket(): handler is null");
  // A session keeps its timers in 32-bit milliseconds (server/millis_stamp.hpp).
  for (const auto& [name, interval] : {std::pair{"heartbeatPeriod", options_.heartbeatPeriod},
                                       std::pair{"closePeriod", options_.closePeriod},
                                       std::pair{"idleTimeout", options_.idleTimeout}}) {
    if (interval > MillisStamp::kMaxInterval || interval.count() < 0)
      throw std::invalid_argument(std::string("websocket(): ") + name +
                                  " must be between 0 and 24 days");
  }
  if (options_.lowWaterMark > options_.highWaterMark)
    options_.lowWaterMark = options_.highWaterMark;
}

void WebsocketApp::onServerStarting(Server& server) {
  // One server at a time: the application's client registry is per server run.
  if (started_.exchange(true) && server_ != nullptr && server_ != &server &&
      server_->state() != Server::State::Stopped) {
    throw std::logic_error("a websocket() application can serve one server at a time");
  }
  server_ = &server;
  local_.clear();
  local_.resize(server.workerCount());
  if (server.workerCount() > kWorkerMask + 1) throw std::runtime_error("at most 256 workers");
  stopping_ = false;
  handler_->onStart(*this);
}

Task<> WebsocketApp::onServerStopping() {
  stopping_ = true;
  co_await handler_->onStop();
}

Task<> WebsocketApp::respond(http::Request& request, http::Response& response) {
  std::vector<protocol::HeaderField> fields;
  fields.reserve(request.headers().size());
  for (const auto& field : request.headers())
    fields.push_back({field.name, field.value});
  const protocol::HandshakeCheck check = protocol::validateUpgradeRequest(
      {request.method(), request.versionMajor(), request.versionMinor(), fields});
  if (!check.ok()) {
    log::info("{} {}: websocket handshake refused with {}: {}", request.remoteAddress(),
              request.target(), check.status, check.reason);
    response.setStatus(check.status);
    for (const auto& header : check.extraHeaders)
      response.setHeader(header.name, header.value);
    response.setHeader("Content-Type", "text/plain; charset=utf-8");
    co_await response.send(std::string(check.reason) + "\n");
    co_return;
  }
  if (stopping()) {
    response.setStatus(503);
    co_await response.send("Server stopping\n");
    co_return;
  }
  const std::string accept = protocol::computeAcceptKey(check.key);
  response.setStatus(101);
  response.setDeadline(Worker::steadyNow() + options_.handshakeTimeout);
  std::any data = co_await handler_->onHandshake(request, response);
  if (response.status() != 101) co_return;  // denied: that response reaches the client
  if (stopping()) {
    // onStop ran while onHandshake was suspended: after onStop no callback but onClose
    // may run (seed 002), and the stop sequence already closed the clients it knew of, so
    // an upgrade now would open a client onStop never saw. Refuse it like any other.
    response = http::Response();
    response.setStatus(503);
    co_await response.send("Server stopping\n");
    co_return;
  }
  response.setHeader("Upgrade", "websocket");
  response.setHeader("Connection", "Upgrade");
  response.setHeader("Sec-WebSocket-Accept", accept);
  std::optional<protocol::DeflateParameters> deflate;
  if (options_.perMessageDeflate) {
    const std::string offered = protocol::combinedHeaderValue(fields, "Sec-WebSocket-Extensions");
    if (!offered.empty()) {
      if (const auto offers = protocol::parseExtensions(offered)) {
        protocol::DeflateConfig config;
        config.serverNoContextTakeover = options_.deflateNoContextTakeover;
        config.clientNoContextTakeover = options_.deflateNoContextTakeover;
        config.serverMaxWindowBits = options_.deflateWindowBits;
        if (auto agreement = protocol::negotiateDeflate(*offers, config)) {
          response.setHeader("Sec-WebSocket-Extensions", agreement->response);
          deflate = agreement->parameters;
        }
      }
    }
  }
  response.body().clear();
  response.setUpgrade(
      std::make_shared<WebsocketUpgrade>(shared_from_this(), std::move(data), deflate));
}

void WebsocketApp::open(Connection& connection, std::any handshakeData, std::string pendingBytes,
                        std::optional<protocol::DeflateParameters> deflate) {
  const unsigned worker = connection.worker().index();
  const ClientId id =
      (nextSequence_.fetch_add(1, std::memory_order_relaxed) << kWorkerBits) | worker;
  ClientStats* stats;
  {
    std::lock_guard lock(registryMutex_);
    stats = &registry_.try_emplace(id).first->second;
    stats->connectedAt.store(Worker::unixNow(), std::memory_order_relaxed);
    if (deflate) stats->deflate = protocol::CompactDeflateParameters(*deflate);
  }
  if (log::debugEnabled()) {
    log::debug("client {} ({}): open, permessage-deflate {}", id, connection.remoteAddress(),
               deflate ? protocol::formatDeflateParameters(*deflate) : std::string("not in use"));
  }
  auto session = std::make_unique<WsSession>(connection, shared_from_this(), id, *stats, deflate);
  WsSession& ref = *session;
  ref.setPending(std::move(pendingBytes));
  local_[worker].sessions.insert(&ref);
  connection.setSession(std::move(session));
  connection.pauseReading();  // until onOpen finished: messages follow onOpen
  runOnOpen(id, std::move(handshakeData)).start();
}

Task<> WebsocketApp::runOnOpen(ClientId client, std::any handshakeData) {
  try {
    co_await handler_->onOpen(client, std::move(handshakeData));
  } catch (const LoopStopping&) {
    co_return;  // the server stopped while onOpen waited
  } catch (...) {
    failClient(client, "onOpen", std::current_exception());
  }
  Local& local = local_[workerOf(client)];
  if (WsSession* session = local.sessions.find(client)) {
    session->opened();
    co_return;
  }
  if (auto it = local.closedWhileOpening.find(client); it != local.closedWhileOpening.end()) {
    auto [code, reason] = std::move(it->second);
    local.closedWhileOpening.erase(it);
    runOnClose(client, code, std::move(reason)).start();
  }
}

void WebsocketApp::dispatchData(ClientId client, ws::Message message) {
  if (stopping()) return;  // after onStop only onClose runs (seed 002)
  // The handler's task is started as it is, its outcome reported to onDataDone: a wrapping
  // coroutine for the try/catch cost a small echo ~150 instructions (callgrind, workload B).
  Task<> task;
  try {
    task = handler_->onData(client, std::move(message));
  } catch (...) {  // an override that throws before its coroutine exists
    onDataDone(this, client, std::current_exception());
    return;
  }
  std::move(task).start(&WebsocketApp::onDataDone, this, client);
}

void WebsocketApp::onDataDone(void* app, std::uint64_t client, std::exception_ptr error) noexcept {
  if (!error) return;
  try {
    std::rethrow_exception(std::move(error));
  } catch (const ws::MessageError&) {
    // The client went away mid-message: its onClose tells the application.
  } catch (const LoopStopping&) {
    // The server stopped while the handler waited: nothing left to do.
  } catch (...) {
    try {
      static_cast<WebsocketApp*>(app)->failClient(client, "onData", std::current_exception());
    } catch (...) {  // closing failed too (out of memory): the client's timeouts end it
    }
  }
}

void WebsocketApp::closed(ClientId client, unsigned worker, bool opening, std::uint16_t code,
                          std::string reason) {
  Local& local = local_[worker];
  local.sessions.erase(client);
  {
    std::lock_guard lock(registryMutex_);
    if (auto it = registry_.find(client); it != registry_.end()) {
      it->second.closedAt.store(Worker::unixNow(), std::memory_order_relaxed);
      it->second.closeCode = code;
      if (!reason.empty()) it->second.closeReason = std::make_unique<std::string>(reason);
    }
  }
  if (opening) {
    local.closedWhileOpening.emplace(client, std::make_pair(code, std::move(reason)));
    return;
  }
  runOnClose(client, code, std::move(reason)).start();
}

Task<> WebsocketApp::runOnClose(ClientId client, std::uint16_t code, std::string reason) {
  try {
    co_await handler_->onClose(client, code, reason);
  } catch (const std::exception& e) {
    log::error("client {}: onClose threw: {}", client, e.what());
  } catch (...) {
    log::error("client {}: onClose threw an unknown exception", client);
  }
  std::lock_guard lock(registryMutex_);
  registry_.erase(client);
}

void WebsocketApp::failClient(ClientId client, const char* callback, std::exception_ptr error) {
  try {
    std::rethrow_exception(std::move(error));
  } catch (const std::exception& e) {
    log::error("client {}: {} threw: {} -> closing with 1011", client, callback, e.what());
  } catch (...) {
    log::error("client {}: {} threw an unknown exception -> closing with 1011", client, callback);
  }
  close(client, protocol::close_code::InternalError, "Internal server error");
}

WsSession* WebsocketApp::localSession(ClientId client) const noexcept {
  Worker* worker = Worker::current();
  if (worker == nullptr || worker->index() != workerOf(client)) return nullptr;
  if (&worker->server().facade() != server_ || workerOf(client) >= local_.size()) return nullptr;
  return local_[workerOf(client)].sessions.find(client);
}

template <class F>
void WebsocketApp::onOwner(ClientId client, F&& f) {
  const unsigned index = workerOf(client);
  if (server_ == nullptr || index >= local_.size()) return;
  Worker* current = Worker::current();
  if (current != nullptr && current->index() == index && &current->server().facade() == server_) {
    f();
    return;
  }
  server_->impl().worker(index).loop().post(std::forward<F>(f));
}

ws::SendAwaitable WebsocketApp::send(std::string data, ClientId client) {
  if (!protocol::isValidUtf8(data)) throw std::invalid_argument("send(): text is not valid UTF-8");
  return sendTo(client, Opcode::Text, std::move(data));
}

ws::SendAwaitable WebsocketApp::sendBinary(std::string data, ClientId client) {
  return sendTo(client, Opcode::Binary, std::move(data));
}

ws::SendAwaitable WebsocketApp::sendTo(ClientId client, Opcode opcode, std::string data) {
  if (WsSession* session = localSession(client)) {
    Connection& connection = session->connection();
    connection.retain();  // the send may close a slow consumer under our feet
    session->sendMessage(opcode, data);
    connection.release();
    recyclePayload(std::move(data));  // the bytes are in the frame now: keep the storage
    return {this, client};
  }
  // Another worker's client: post the send; the awaitable waits (like a broadcast's) for
  // that client to drain if the send saturates it.
  auto wait = std::make_shared<ws::detail::FanOutWait>();
  onOwner(client,
          [this, client, opcode, data = std::move(data), share = ws::detail::DeliveryShare(wait)] {
            if (WsSession* session = localSession(client)) {
              Connection& connection = session->connection();
              connection.retain();
              session->sendMessage(opcode, data);
              if (!connection.closed() && session->saturated()) {
                share.wait->acquire();
                session->addFanOutWaiter(share.wait);
              }
              connection.release();
            }
          });
  wait->release();  // the call's own share
  return ws::SendAwaitable(std::move(wait));
}

ws::SendAwaitable WebsocketApp::sendFragment(ClientId client, std::uint64_t stream, bool binary,
                                             bool first, bool fin, std::string chunk) {
  if (WsSession* session = localSession(client)) {
    Connection& connection = session->connection();
    connection.retain();
    session->sendFragment(stream, binary, first, fin, chunk);
    connection.release();
    return {this, client};
  }
  auto wait = std::make_shared<ws::detail::FanOutWait>();
  onOwner(client, [this, client, stream, binary, first, fin, chunk = std::move(chunk),
                   share = ws::detail::DeliveryShare(wait)] {
    if (WsSession* session = localSession(client)) {
      Connection& connection = session->connection();
      connection.retain();
      session->sendFragment(stream, binary, first, fin, chunk);
      if (!connection.closed() && session->saturated()) {
        share.wait->acquire();
        session->addFanOutWaiter(share.wait);
      }
      connection.release();
    }
  });
  wait->release();
  return ws::SendAwaitable(std::move(wait));
}

ws::SendAwaitable WebsocketApp::broadcast(std::string data, std::span<const ClientId> exceptIds) {
  if (!protocol::isValidUtf8(data))
    throw std::invalid_argument("broadcast(): text is not valid UTF-8");
  return fanOut(Opcode::Text, std::move(data), {exceptIds.begin(), exceptIds.end()}, true);
}

ws::SendAwaitable WebsocketApp::broadcastBinary(std::string data,
                                                std::span<const ClientId> exceptIds) {
  return fanOut(Opcode::Binary, std::move(data), {exceptIds.begin(), exceptIds.end()}, true);
}

ws::SendAwaitable WebsocketApp::multicast(std::string data, std::span<const ClientId> clientIds) {
  if (!protocol::isValidUtf8(data))
    throw std::invalid_argument("multicast(): text is not valid UTF-8");
  return fanOut(Opcode::Text, std::move(data), {clientIds.begin(), clientIds.end()}, false);
}

ws::SendAwaitable WebsocketApp::multicastBinary(std::string data,
                                                std::span<const ClientId> clientIds) {
  return fanOut(Opcode::Binary, std::move(data), {clientIds.begin(), clientIds.end()}, false);
}

ws::SendAwaitable WebsocketApp::fanOut(Opcode opcode, std::string data, std::vector<ClientId> ids,
                                       bool exclude) {
  if (server_ == nullptr) return {};
  // Serialise once; every recipient on every thread shares these bytes.
  auto frames = std::make_shared<std::string>();
  const auto frameCount = static_cast<std::uint32_t>(protocol::appendMessage(
      *frames, opcode, {data.data(), data.size()}, options_.autoFrameSize, nullptr, nullptr));
  // And compressed once for every recipient in shared mode (same window or a larger one).
  auto compressed = std::make_shared<std::string>();
  std::uint32_t compressedCount = 0;
  const int sharedBits = std::clamp(options_.deflateWindowBits, 9, 15);
  if (options_.perMessageDeflate && options_.deflateNoContextTakeover &&
      data.size() >= options_.compressionThreshold &&
      sharedDeflateClients_.load(std::memory_order_relaxed) != 0) {
    compressedCount = static_cast<std::uint32_t>(protocol::appendMessage(
        *compressed, opcode, {data.data(), data.size()}, options_.autoFrameSize, nullptr,
        &protocol::MessageDeflater::sharedForThisThread(sharedBits)));
  }
  std::sort(ids.begin(), ids.end());
  auto shared = std::make_shared<const std::vector<ClientId>>(std::move(ids));
  // The awaitable waits for every recipient that is saturated once the frame is queued.
  auto wait = std::make_shared<ws::detail::FanOutWait>();
  const std::size_t workers = local_.size();
  for (unsigned index = 0; index < workers; ++index) {
    if (!exclude) {
      // Multicast: only threads that own one of the ids get a post.
      bool any = false;
      for (ClientId id : *shared)
        any = any || workerOf(id) == index;
      if (!any) continue;
    }
    auto deliver = [this, index, frames, frameCount, compressed, compressedCount, sharedBits,
                    shared, exclude, share = ws::detail::DeliveryShare(wait)] {
      Local& local = local_[index];
      std::vector<WsSession*> targets;
      if (exclude) {
        targets.reserve(local.sessions.size());
        local.sessions.forEach([&](WsSession* session) {
          if (!std::binary_search(shared->begin(), shared->end(), session->id())) {
            targets.push_back(session);
          }
        });
      } else {
        for (ClientId id : *shared) {
          if (workerOf(id) != index) continue;
          if (WsSession* session = local.sessions.find(id)) targets.push_back(session);
        }
      }
      for (WsSession* session : targets)
        session->connection().retain();
      for (WsSession* session : targets) {
        Connection& connection = session->connection();
        if (connection.closed()) continue;
        if (compressedCount != 0 && session->takesSharedFrames(sharedBits)) {
          session->sendPrepared(*compressed, compressedCount);
        } else {
          session->sendPrepared(*frames, frameCount);
        }
        if (session->saturated()) {
          share.wait->acquire();
          session->addFanOutWaiter(share.wait);
        }
      }
      for (WsSession* session : targets)
        session->connection().release();
    };
    Worker* current = Worker::current();
    if (current != nullptr && current->index() == index && &current->server().facade() == server_) {
      deliver();
    } else {
      server_->impl().worker(index).loop().post(std::move(deliver));
    }
  }
  wait->release();  // the fan-out call's own share
  return ws::SendAwaitable(std::move(wait));
}

void WebsocketApp::close(ClientId client, std::uint16_t code, std::string_view reason) {
  if (!protocol::isValidCloseCodeOnWire(code)) code = protocol::close_code::Normal;
  if (!protocol::isValidUtf8(reason)) {
    // A close reason must be UTF-8 (RFC 6455 5.5.1); the client would fail the connection
    // with 1007 instead of seeing our code. Keep the code, drop the reason.
    log::warn("client {}: close reason is not valid UTF-8; sending the code without it", client);
    reason = {};
  }
  if (WsSession* session = localSession(client)) {
    Connection& connection = session->connection();
    connection.retain();
    session->close(code, reason);
    connection.release();
    return;
  }
  onOwner(client, [this, client, code, reason = std::string(reason)] {
    if (WsSession* session = localSession(client)) {
      Connection& connection = session->connection();
      connection.retain();
      session->close(code, reason);
      connection.release();
    }
  });
}

std::optional<ws::ClientInfo> WebsocketApp::getInfo(ClientId client) const {
  std::lock_guard lock(registryMutex_);
  auto it = registry_.find(client);
  if (it == registry_.end()) return std::nullopt;
  return it->second.snapshot();
}

std::vector<ClientId> WebsocketApp::getClients() const {
  std::vector<ClientId> clients;
  {
    std::lock_guard lock(registryMutex_);
    clients.reserve(registry_.size());
    for (const auto& [id, stats] : registry_) {
      if (stats.closedAt.load(std::memory_order_relaxed) == 0) clients.push_back(id);
    }
  }
  // Ids grow with each connection: sorted, they come in the order the clients connected
  // (on each worker), as the ordered registry gave them before it became a hash map.
  std::sort(clients.begin(), clients.end());
  return clients;
}

bool WebsocketApp::isSaturated(ClientId client) const noexcept {
  const WsSession* session = localSession(client);
  return session != nullptr && session->saturated();
}

bool WebsocketApp::waitUntilDrained(ClientId client, std::coroutine_handle<> awaiting) noexcept {
  WsSession* session = localSession(client);
  if (session == nullptr || !session->saturated()) return false;
  session->addDrainWaiter(awaiting);
  return true;
}

}  // namespace aerie::detail
