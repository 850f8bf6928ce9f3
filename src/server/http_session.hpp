// HTTP/1.1 on a connection: parse requests, run the Host's responders (the first that
// starts a response wins; 404 if none does), write responses in order, keep-alive, and
// hand the connection over on a 101 upgrade.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aerie/http/request.hpp"
#include "aerie/http/request_parser.hpp"
#include "aerie/http/response.hpp"
#include "aerie/http/response_head.hpp"
#include "server/connection.hpp"
#include "server/response_compression.hpp"

namespace aerie::detail {

class ServerImpl;

class HttpSession final : public Session, public http::BodySink, public http::BodySource {
 public:
  HttpSession(ServerImpl& server, Connection& connection);

  void onBytes(char* data, std::size_t size) override;
  void onEof() override;
  void onTick(std::chrono::steady_clock::time_point now) override;
  void onClosed() override;
  void onBelowLowWater() override;
  Task<> writeBody(http::Response& response, std::string chunk, bool last) override;
  Task<std::optional<std::string>> readBody() override;
  void bodyLimitChanged(std::uint64_t maxBodySize) override;
  void shutdownGracefully() override;

 private:
  /// Parses and answers requests in `data`; returns false once `this` is gone (upgraded).
  bool process(const char* data, std::size_t size);
  /// Runs the responders for the request just read. True when they finished synchronously.
  void startResponse();
  /// Writes the response; false once `this` is gone (upgraded) or the connection closes.
  bool completeResponse();
  Task<> runResponders();
  static void responderDone(void* self, std::uint64_t, std::exception_ptr error) noexcept;
  void fail(int status, std::string_view reason);
  /// Date, Server, Content-Type/Length and Connection for `status` into serverFields_;
  /// decides keep-alive.
  void completeHeaders(http::Response& response, int status, bool streamed);
  /// The head of a streamed response, written with its first chunk.
  bool writeStreamHead(http::Response& response);
  /// Ends the body of a streamed response (the terminating chunk) if the responder did not.
  void finishStream(http::Response& response);
  void wakeDrainWaiter();
  // ---- the request body (read on demand, see docs/server.md "Request bodies") ----
  /// Unparsed bytes after the head being answered: a view of the read buffer while the
  /// responder runs synchronously, pending_ afterwards.
  std::string_view input() const noexcept;
  void consumeInput(std::size_t bytes);
  /// Parses what input() holds of the body into `out`; stops at its end or an error.
  void pumpBody(std::string& out);
  void wakeBodyWaiter();
  /// Whether the connection can stay open with this request's body in its current state.
  bool bodyAllowsKeepAlive() const noexcept;
  /// After the response: bounds how much of an unread chunked body is discarded.
  void limitUnreadBody() noexcept;
  /// A body error (413, 400, 408) decides the response: true if it was answered here.
  bool answerBodyError();
  /// The Content-Encoding to apply to this response (nullptr: none); adds Vary and marks
  /// the ETag as the encoded representation's.
  const char* contentEncodingFor(http::Response& response, int status, bool streamed);
  void compressWholeBody(http::Response& response, int status);

  ServerImpl& server_;
  Connection& connection_;
  std::string remoteAddress_;  // formatted once, for every request on the connection
  http::RequestParser parser_;
  // One of each per connection, reused: a keep-alive request allocates nothing for them
  // (the request head's storage alternates with the parser's, see startResponse()).
  http::Request request_;
  http::Response response_;
  bool answering_ = false;  // request_ and response_ belong to a request being answered
  // What the server adds to the response head being written (completeHeaders()).
  http::ServerFields serverFields_;
  std::exception_ptr responderError_;
  std::string pending_;          // bytes after the request being answered asynchronously
  std::string_view restOfRead_;  // same, while the responder runs synchronously
  bool inputInline_ = false;     // input() is restOfRead_
  // The body of the request being answered.
  bool bodyDone_ = true;       // its end was parsed (or it has none)
  bool continueSent_ = false;  // "100 Continue" went out
  int bodyStatus_ = 0;         // 413, 400, 408: the body failed
  std::string bodyReason_;
  std::coroutine_handle<> bodyWaiter_;  // a responder waiting in read()
  std::chrono::steady_clock::time_point bodyProgress_;
  std::chrono::steady_clock::time_point idleSince_;
  std::size_t served_ = 0;
  std::size_t partialBytes_ = 0;  // bytes of a request not complete yet
  bool busy_ = false;
  bool synchronous_ = false;
  bool responseReady_ = false;
  bool stopping_ = false;
  bool timedOut_ = false;  // answered 503 while the responder was still running
  // The response being streamed (Response::write).
  bool keepAlive_ = true;
  bool streamHeadSent_ = false;
  bool streamChunked_ = false;
  bool streamBodyless_ = false;  // HEAD, 204, 304: headers only
  std::coroutine_handle<> drainWaiter_;
  std::unique_ptr<BodyCompressor> streamCompressor_;
};

}  // namespace aerie::detail
