// One websocket(handler, options) application: the responder that performs handshakes,
// the Endpoint its handler talks through, and the registry of its clients.
//
// Clients live on worker threads; each worker has its own id -> session map touched only
// by that thread. Calls for a client on another thread are posted to it (one post per
// thread for broadcasts, the frame serialised once and shared).
#pragma once

#include <any>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "aerie/protocol/opcode.hpp"
#include "aerie/protocol/permessage_deflate.hpp"
#include "aerie/server/responder.hpp"
#include "aerie/websocket/endpoint.hpp"
#include "aerie/websocket/handler.hpp"
#include "aerie/websocket/options.hpp"
#include "websocket/client_stats.hpp"
#include "websocket/session_index.hpp"

namespace aerie::detail {

class WsSession;
class Connection;

class WebsocketApp final : public ws::Endpoint,
                           public ServerObserver,
                           public std::enable_shared_from_this<WebsocketApp> {
 public:
  /// ClientId = sequence << kClientIdWorkerBits | the index of the client's worker.
  static constexpr unsigned kClientIdWorkerBits = 8;

  WebsocketApp(std::shared_ptr<ws::Handler> handler, ws::Options options);

  /// The responder: validates the upgrade request, asks onHandshake, accepts.
  Task<> respond(http::Request& request, http::Response& response);

  // ServerObserver
  void onServerStarting(Server& server) override;
  Task<> onServerStopping() override;

  // Endpoint
  ws::SendAwaitable send(std::string data, ClientId client) override;
  ws::SendAwaitable sendBinary(std::string data, ClientId client) override;
  ws::SendAwaitable broadcast(std::string data, std::span<const ClientId> exceptIds) override;
  ws::SendAwaitable broadcastBinary(std::string data, std::span<const ClientId> exceptIds) override;
  ws::SendAwaitable multicast(std::string data, std::span<const ClientId> clientIds) override;
  ws::SendAwaitable multicastBinary(std::string data, std::span<const ClientId> clientIds) override;
  void close(ClientId client, std::uint16_t code, std::string_view reason) override;
  std::optional<ws::ClientInfo> getInfo(ClientId client) const override;
  std::vector<ClientId> getClients() const override;

  // For sessions (on their worker's thread).
  const ws::Options& options() const noexcept { return options_; }
  ws::Handler& handler() noexcept { return *handler_; }
  bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
  /// Creates the session for an accepted handshake on `connection`.
  /// Shared-mode deflate clients come and go (WsSession's constructor and destructor).
  void sharedDeflateClient(bool joined) noexcept {
    sharedDeflateClients_.fetch_add(joined ? 1 : static_cast<std::size_t>(-1),
                                    std::memory_order_relaxed);
  }
  void open(Connection& connection, std::any handshakeData, std::string pendingBytes,
            std::optional<protocol::DeflateParameters> deflate);
  void dispatchData(ClientId client, ws::Message message);
  /// The session is gone: unregister and run onClose (code/reason as the client saw them).
  /// `opening`: onOpen has not finished yet (onClose then waits for it).
  void closed(ClientId client, unsigned worker, bool opening, std::uint16_t code,
              std::string reason);

 protected:
  bool isSaturated(ClientId client) const noexcept override;
  ws::SendAwaitable sendFragment(ClientId client, std::uint64_t stream, bool binary, bool first,
                                 bool fin, std::string chunk) override;
  bool waitUntilDrained(ClientId client, std::coroutine_handle<> awaiting) noexcept override;

 private:
  ws::SendAwaitable sendTo(ClientId client, protocol::Opcode opcode, std::string data);
  ws::SendAwaitable fanOut(protocol::Opcode opcode, std::string data, std::vector<ClientId> ids,
                           bool exclude);
  /// The session of `client` if it lives on the calling thread's worker.
  WsSession* localSession(ClientId client) const noexcept;
  /// Runs `f` on the worker owning `client` (inline when that is the calling thread).
  template <class F>
  void onOwner(ClientId client, F&& f);

  Task<> runOnOpen(ClientId client, std::any handshakeData);
  /// How a handler's onData task ended (Task::start's callback; the tag is the client).
  static void onDataDone(void* app, std::uint64_t client, std::exception_ptr error) noexcept;
  Task<> runOnClose(ClientId client, std::uint16_t code, std::string reason);
  void failClient(ClientId client, const char* callback, std::exception_ptr error);

  std::shared_ptr<ws::Handler> handler_;
  ws::Options options_;
  Server* server_ = nullptr;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  // Connected clients in shared deflate mode: broadcasts are compressed only if there are.
  std::atomic<std::size_t> sharedDeflateClients_{0};
  std::atomic<std::uint64_t> nextSequence_{1};
  struct Local {
    SessionIndex<WsSession> sessions{kClientIdWorkerBits};
    // Clients that went away while onOpen ran: onClose follows onOpen.
    std::unordered_map<ClientId, std::pair<std::uint16_t, std::string>> closedWhileOpening;
  };
  std::vector<Local> local_;  // per worker, touched by that worker's thread only
  mutable std::mutex registryMutex_;
  // All clients, for getInfo, until their onClose finished. The stats live in the map's
  // nodes (one allocation per client; nodes do not move on rehash): a session holds a
  // pointer to its stats and stops using it when it reports its close (closed()).
  std::unordered_map<ClientId, ClientStats> registry_;
};

}  // namespace aerie::detail
