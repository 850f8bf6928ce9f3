#include "aerie/client/connection.hpp"

#include <stdexcept>

#include "aerie/protocol/close_code.hpp"
#include "client/client_session.hpp"

namespace aerie::client {

using detail::ClientSession;

// ---- SendAwaitable --------------------------------------------------------------------

bool SendAwaitable::await_ready() const noexcept {
  return !session_->saturated();
}

void SendAwaitable::await_suspend(std::coroutine_handle<> awaiting) {
  session_->addDrainWaiter(awaiting);
}

// ---- MessageWriter --------------------------------------------------------------------

MessageWriter::MessageWriter(std::shared_ptr<ClientSession> session, bool binary) noexcept
    : session_(std::move(session)), binary_(binary) {}

MessageWriter::MessageWriter(MessageWriter&& other) noexcept
    : session_(std::move(other.session_)),
      binary_(other.binary_),
      started_(other.started_),
      ended_(std::exchange(other.ended_, true)) {}

MessageWriter::~MessageWriter() {
  if (!session_ || ended_ || !started_ || session_->finished()) return;
  try {
    // A message left open would block every later send: finish it.
    session_->sendFragment(binary_, false, true, {});
  } catch (...) {  // closing, or text cut inside a character: the close settles it
  }
}

SendAwaitable MessageWriter::write(std::string_view chunk) {
  if (ended_) throw std::logic_error("MessageWriter::write() after end()");
  session_->sendFragment(binary_, !started_, false, chunk);
  started_ = true;
  return SendAwaitable(session_);
}

SendAwaitable MessageWriter::end(std::string_view lastChunk) {
  if (ended_) throw std::logic_error("MessageWriter::end() called twice");
  session_->sendFragment(binary_, !started_, true, lastChunk);
  started_ = true;
  ended_ = true;
  return SendAwaitable(session_);
}

// ---- Connection -----------------------------------------------------------------------

Connection::Connection(std::shared_ptr<ClientSession> session) noexcept
    : session_(std::move(session)) {
  // Shared by the copies of this handle; the last one closes the connection.
  std::weak_ptr<ClientSession> weak = session_;
  owner_ = std::shared_ptr<void>(session_.get(), [weak](void*) {
    if (auto alive = weak.lock()) alive->abandon();
  });
}

Connection::~Connection() = default;

SendAwaitable Connection::send(std::string_view text) {
  session_->sendMessage(protocol::Opcode::Text, text);
  return SendAwaitable(session_);
}

SendAwaitable Connection::sendBinary(std::string_view data) {
  session_->sendMessage(protocol::Opcode::Binary, data);
  return SendAwaitable(session_);
}

MessageWriter Connection::stream() {
  return MessageWriter(session_, false);
}

MessageWriter Connection::streamBinary() {
  return MessageWriter(session_, true);
}

namespace {
struct ReceiveAwaiter {
  ClientSession& session;
  bool await_ready() const noexcept { return session.receiveReady(); }
  void await_suspend(std::coroutine_handle<> awaiting) { session.setReceiveWaiter(awaiting); }
  void await_resume() const noexcept {}
};

struct CloseAwaiter {
  ClientSession& session;
  bool await_ready() const noexcept { return session.finished(); }
  void await_suspend(std::coroutine_handle<> awaiting) { session.addCloseWaiter(awaiting); }
  void await_resume() const noexcept {}
};
}  // namespace

Task<std::optional<ws::Message>> Connection::receive() {
  std::shared_ptr<ClientSession> session = session_;  // the frame keeps it alive
  while (!session->receiveReady())
    co_await ReceiveAwaiter{*session};
  auto message = session->takeMessage();
  if (!message) co_return std::nullopt;
  co_return ws::Message(std::move(message));
}

void Connection::ping(std::string_view payload) {
  session_->ping(payload);
}

Task<> Connection::close(std::uint16_t code, std::string_view reason) {
  std::shared_ptr<ClientSession> session = session_;
  if (session->finished()) co_return;
  if (!protocol::isValidCloseCodeOnWire(code)) {
    throw std::invalid_argument("close(): " + std::to_string(code) +
                                " is not a close code an endpoint may send");
  }
  session->startClose(code, reason);
  while (!session->finished())
    co_await CloseAwaiter{*session};
}

bool Connection::isClosed() const noexcept {
  return session_->finished();
}

std::uint16_t Connection::closeCode() const noexcept {
  return session_->reportedCloseCode();
}

std::string Connection::closeReason() const {
  return session_->info().closeReason;
}

const std::string& Connection::subprotocol() const noexcept {
  return session_->subprotocol;
}

const http::Headers& Connection::responseHeaders() const noexcept {
  return session_->responseHeaders;
}

ws::ClientInfo Connection::getInfo() const {
  return session_->info();
}

const std::string& Connection::remoteAddress() const noexcept {
  return session_->remoteAddress();
}

}  // namespace aerie::client
