#include "apps.hpp"

namespace aerie::tools {
namespace {

class Echo final : public websocket::Handler {
 public:
  void onStart(websocket::Endpoint& endpoint) override { endpoint_ = &endpoint; }
  Task<> onData(ClientId client, websocket::Message message) override {
    const bool binary = message.isBinary();
    std::string payload = co_await message.buffer();
    if (binary) {
      co_await endpoint_->sendBinary(std::move(payload), client);
    } else {
      co_await endpoint_->send(std::move(payload), client);
    }
  }

 private:
  websocket::Endpoint* endpoint_ = nullptr;
};

class Broadcast final : public websocket::Handler {
 public:
  void onStart(websocket::Endpoint& endpoint) override { endpoint_ = &endpoint; }
  Task<> onData(ClientId client, websocket::Message message) override {
    const bool binary = message.isBinary();
    std::string payload = co_await message.buffer();
    const ClientId except[] = {client};
    if (binary) {
      co_await endpoint_->broadcastBinary(std::move(payload), except);
    } else {
      co_await endpoint_->broadcast(std::move(payload), except);
    }
  }

 private:
  websocket::Endpoint* endpoint_ = nullptr;
};

/// A chat room: every message goes to everyone, prefixed with its author; joins and
/// leaves are announced (lines starting with '*').
class Chat final : public websocket::Handler {
 public:
  void onStart(websocket::Endpoint& endpoint) override { endpoint_ = &endpoint; }
  Task<> onOpen(ClientId client, std::any) override {
    co_await endpoint_->broadcast("* client " + std::to_string(client) + " joined");
  }
  Task<> onData(ClientId client, websocket::Message message) override {
    if (message.isBinary()) co_return;  // a text chat
    std::string text = co_await message.buffer();
    if (text.size() > 4096) text.resize(4096);
    co_await endpoint_->broadcast("client " + std::to_string(client) + ": " + text);
  }
  Task<> onClose(ClientId client, std::uint16_t code, std::string_view) override {
    co_await endpoint_->broadcast("* client " + std::to_string(client) + " left (" +
                                  std::to_string(code) + ")");
  }

 private:
  websocket::Endpoint* endpoint_ = nullptr;
};

}  // namespace

std::shared_ptr<websocket::Handler> makeApp(std::string_view name) {
  if (name == "chat") return std::make_shared<Chat>();
  if (name == "echo") return std::make_shared<Echo>();
  if (name == "broadcast") return std::make_shared<Broadcast>();
  return nullptr;
}

}  // namespace aerie::tools
