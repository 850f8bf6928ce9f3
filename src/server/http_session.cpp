#include "server/http_session.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "aerie/http/response_head.hpp"
#include "aerie/http/status.hpp"
#include "aerie/http/url.hpp"
#include "core/log.hpp"
#include "server/server_impl.hpp"
#include "server/upgrade.hpp"
#include "server/worker.hpp"

namespace aerie::detail {
namespace {

http::ParserLimits limitsFrom(const ServerOptions& options) {
  http::ParserLimits limits;
  limits.maxRequestLineSize = options.maxRequestLineSize;
  limits.maxHeaderSize = options.maxHeaderSize;
  limits.maxBodySize = options.maxBodySize;
  return limits;
}

thread_local http::DateCache dateCache;

}  // namespace

HttpSession::HttpSession(ServerImpl& server, Connection& connection)
    : server_(server),
      connection_(connection),
      remoteAddress_(connection.remoteAddress()),
      parser_(limitsFrom(server.options())),
      idleSince_(Worker::steadyNow()) {}

void HttpSession::onBytes(char* data, std::size_t size) {
  if (busy_) {
    // A response is in progress: keep the bytes (its body, pipelined requests) and read no
    // more until the responder asks for the body or has finished.
    pending_.append(data, size);
    connection_.pauseReading();
    wakeBodyWaiter();
    return;
  }
  process(data, size);
}

bool HttpSession::process(const char* data, std::size_t size) {
  while (true) {
    // In the body of a request already answered: what is left of it is discarded.
    const bool discarding = parser_.inBody();
    const http::RequestParser::Result result = parser_.feed(data, size);
    data += result.consumed;
    size -= result.consumed;
    partialBytes_ += result.consumed;
    switch (result.event) {
      case http::RequestParser::Event::NeedMore:
        return true;
      case http::RequestParser::Event::BodyChunk:
        continue;
      case http::RequestParser::Event::MessageComplete:
        partialBytes_ = 0;
        continue;
      case http::RequestParser::Event::Error:
        if (discarding) {
          // The response went out already; the unread body is too large or malformed.
          log::info("{}: unread request body: {} {}: closing", connection_.remoteAddress(),
                    result.status, result.reason);
          connection_.shutdownAfterDrain(Worker::steadyNow() + server_.options().shutdownTimeout);
          return true;
        }
        fail(result.status, result.reason);
        return true;
      case http::RequestParser::Event::HeadComplete:
        break;
    }
    partialBytes_ = 0;
    {
      const auto& allowed = server_.options().allowedMethods;
      if (std::find(allowed.begin(), allowed.end(), parser_.head().method) == allowed.end()) {
        fail(501, "method not implemented");
        return true;
      }
    }
    restOfRead_ = {data, size};
    inputInline_ = true;
    synchronous_ = true;
    startResponse();
    synchronous_ = false;
    if (busy_) {
      // Answered asynchronously: keep the rest until the response is written. Read on only
      // if the responder waits for its body.
      pending_.assign(restOfRead_);
      restOfRead_ = {};
      inputInline_ = false;
      if (bodyWaiter_) {
        connection_.resumeReading();
      } else {
        connection_.pauseReading();
      }
      return true;
    }
    // What the responder did not read of its body (if anything) comes next.
    data = restOfRead_.data();
    size = restOfRead_.size();
    Connection& connection = connection_;
    const bool keepGoing = completeResponse();
    connection.release();  // startResponse()'s retain
    if (!keepGoing) return false;
    restOfRead_ = {};
    inputInline_ = false;
  }
}

void HttpSession::startResponse() {
  // No allocation on a keep-alive connection: the request reuses the previous one's storage.
  parser_.handHeadTo(request_.mutableHead());
  request_.prepare(remoteAddress_);
  request_.setBodySource(this, parser_.contentLength(), parser_.maxBodySize());
  bodyDone_ = parser_.bodyKind() == http::RequestParser::BodyKind::None ||
              parser_.contentLength() == std::optional<std::uint64_t>(0);
  continueSent_ = false;
  bodyStatus_ = 0;
  bodyReason_.clear();
  response_.reset();
  response_.setBodySink(this);
  answering_ = true;
  responderError_ = nullptr;
  responseReady_ = false;
  busy_ = true;
  connection_.retain();  // until the responders finished
  runResponders().start(&HttpSession::responderDone, this);
  if (responseReady_ && synchronous_) busy_ = false;
}

Task<> HttpSession::runResponders() {
  for (const Responder& responder : server_.host().responders()) {
    co_await responder(request_, response_);
    if (response_.started()) co_return;
  }
}

void HttpSession::responderDone(void* self, std::uint64_t, std::exception_ptr error) noexcept {
  auto* session = static_cast<HttpSession*>(self);
  session->responderError_ = std::move(error);
  session->responseReady_ = true;
  if (session->synchronous_) return;  // process() completes it
  session->busy_ = false;
  Connection& connection = session->connection_;
  if (session->completeResponse()) {
    std::string pending = std::move(session->pending_);
    session->pending_.clear();
    if (session->process(pending.data(), pending.size()) && !session->busy_) {
      connection.resumeReading();
    }
  }
  connection.flush();
  connection.release();
}

bool HttpSession::completeResponse() {
  Connection& connection = connection_;
  if (connection.closed() || timedOut_) return false;
  if (bodyStatus_ != 0 && answerBodyError()) return false;
  http::Response& response = response_;
  const http::RequestHead& head = request_.head();
  int status = response.status();
  if (responderError_) {
    try {
      std::rethrow_exception(responderError_);
    } catch (const std::exception& e) {
      log::error("{} {} {}: responder threw: {}", connection.remoteAddress(), head.method,
                 head.target, e.what());
    } catch (...) {
      log::error("{} {} {}: responder threw an unknown exception", connection.remoteAddress(),
                 head.method, head.target);
    }
    response.reset();
    response.setStatus(500);
    response.body() = "Internal Server Error\n";
    status = 500;
  } else if (!response.started() && request_.bodyTooLarge()) {
    // Nobody took the request; what is known is that its declared body is over the limit.
    response.setStatus(413);
    response.body() = "Payload Too Large\n";
    status = 413;
  } else if (!response.started()) {
    response.setStatus(404);
    response.body() = "Not Found\n";
    status = 404;
  }

  if (status == 101) {
    auto* upgrade = dynamic_cast<ConnectionUpgrade*>(response.upgrade().get());
    if (upgrade == nullptr) {
      log::error("{} {}: a responder answered 101 without an upgrade", connection.remoteAddress(),
                 head.target);
      fail(500, "Internal Server Error");
      return false;
    }
    if (!bodyDone_) {  // the bytes after the head would not be the new protocol's
      fail(400, "upgrade request with a body");
      return false;
    }
    std::string& out = connection.outputBuffer();
    (void)http::writeResponseHead(out, 101, response.headers());
    connection.commitWrite();
    std::string pending(input());
    auto keep = response.upgrade();                     // outlives this session
    upgrade->takeOver(connection, std::move(pending));  // destroys *this
    return false;
  }

  const ServerOptions& options = server_.options();
  if (response.streaming()) {
    // The head and the chunks went out as the responder wrote them.
    if (responderError_) {
      log::error("{} {}: the responder failed in the middle of a streamed response: closing",
                 connection.remoteAddress(), head.target);
      connection.close();
      return false;
    }
    finishStream(response);
  } else {
    compressWholeBody(response, status);
    completeHeaders(response, status, false);
    const http::FileBody& file = response.fileBody();  // Response::sendFile()
    if (file.file) serverFields_.contentLength = file.length;
    std::string& out = connection.outputBuffer();
    if (!http::writeResponseHead(out, status, response.headers(), serverFields_)) {
      log::error("{} {}: the response has an invalid header; answering 500",
                 connection.remoteAddress(), head.target);
      fail(500, "Internal Server Error");
      return false;
    }
    const bool bodyAllowed = status >= 200 && status != 204 && status != 304;
    if (bodyAllowed && head.method != "HEAD") out.append(response.body());
    if (bodyAllowed && head.method != "HEAD" && file.file) {
      connection.writeFile(file.file, file.offset, file.length);
    }
    connection.commitWrite();
  }
  const bool keepAlive = keepAlive_;
  limitUnreadBody();
  request_.recycle();
  response_.reset();
  answering_ = false;
  streamHeadSent_ = streamChunked_ = streamBodyless_ = false;
  streamCompressor_.reset();
  idleSince_ = Worker::steadyNow();
  if (!keepAlive) {
    connection.shutdownAfterDrain(Worker::steadyNow() + options.shutdownTimeout);
    return false;
  }
  return true;
}

namespace {
// Which of the fields the server may add the application set itself (one pass; names as
// the server writes them are recognised without folding case).
struct ApplicationFields {
  bool server = false;
  bool contentType = false;
  bool contentLength = false;
};

ApplicationFields applicationFields(const http::Headers& headers) noexcept {
  ApplicationFields present;
  for (const http::HeaderField& field : headers) {
    switch (field.name.size()) {
      case 6:
        present.server =
            present.server || field.name == "Server" || http::iequals(field.name, "server");
        break;
      case 12:
        present.contentType = present.contentType || field.name == "Content-Type" ||
                              http::iequals(field.name, "content-type");
        break;
      case 14:
        present.contentLength = present.contentLength || field.name == "Content-Length" ||
                                http::iequals(field.name, "content-length");
        break;
      default:
        break;
    }
  }
  return present;
}
}  // namespace

void HttpSession::completeHeaders(http::Response& response, int status, bool streamed) {
  const http::RequestHead& head = request_.head();
  const ServerOptions& options = server_.options();
  ++served_;
  keepAlive_ =
      head.keepAlive() && !stopping_ && !connection_.eofSeen() &&
      (options.maxRequestsPerConnection == 0 || served_ < options.maxRequestsPerConnection) &&
      server_.state() == Server::State::Started && bodyAllowsKeepAlive();
  const ApplicationFields present = applicationFields(response.headers());
  http::ServerFields& fields = serverFields_;
  fields = http::ServerFields{};
  fields.date = dateCache.now();
  if (options.serverToken != nullptr && options.serverToken[0] != '\0' && !present.server) {
    fields.server = options.serverToken;
  }
  const bool bodyAllowed = status >= 200 && status != 204 && status != 304;
  if (bodyAllowed) {
    if (streamed) {
      if (!present.contentLength) {
        if (head.versionMinor >= 1) {
          fields.chunked = true;
          streamChunked_ = true;
        } else {
          keepAlive_ = false;  // HTTP/1.0: the body ends when the connection does
        }
      }
      if (!present.contentType) fields.contentType = options.defaultContentType;
    } else {
      // HEAD: a responder may state the length GET would have (root() does); no body follows.
      if (head.method != "HEAD" || !present.contentLength) {
        fields.contentLength = response.body().size();
      }
      if (!response.body().empty() && !present.contentType) {
        fields.contentType = options.defaultContentType;
      }
    }
  }
  if (!keepAlive_) {
    fields.connection = "close";
  } else if (head.versionMinor == 0) {
    fields.connection = "keep-alive";  // HTTP/1.0 closes unless told otherwise
  }
}

// ---- request bodies ----------------------------------------------------------------------

namespace {
// An unread body is discarded after the response up to this many bytes (and never beyond
// the request's limit); a longer one closes the connection instead.
constexpr std::uint64_t kMaxDiscardedBody = 1024 * 1024;

struct BodyAwaiter {
  std::coroutine_handle<>& slot;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept { slot = awaiting; }
  void await_resume() const noexcept {}
};
}  // namespace

std::string_view HttpSession::input() const noexcept {
  if (inputInline_) return restOfRead_;
  return pending_;
}

void HttpSession::consumeInput(std::size_t bytes) {
  if (bytes == 0) return;
  if (inputInline_) {
    restOfRead_.remove_prefix(bytes);
  } else {
    pending_.erase(0, bytes);
  }
}

void HttpSession::pumpBody(std::string& out) {
  while (!bodyDone_ && bodyStatus_ == 0) {
    const std::string_view in = input();
    const http::RequestParser::Result result = parser_.feed(in.data(), in.size());
    switch (result.event) {
      case http::RequestParser::Event::BodyChunk:
        out.append(result.body);  // (a view of the input: copied before it is consumed)
        bodyProgress_ = Worker::steadyNow();
        break;
      case http::RequestParser::Event::MessageComplete:
        bodyDone_ = true;
        break;
      case http::RequestParser::Event::Error:
        bodyStatus_ = result.status;
        bodyReason_ = result.reason;
        break;
      case http::RequestParser::Event::HeadComplete:  // cannot happen inside a body
        bodyStatus_ = 400;
        bodyReason_ = "request body framing lost";
        break;
      case http::RequestParser::Event::NeedMore:
        consumeInput(result.consumed);
        return;
    }
    consumeInput(result.consumed);
  }
}

Task<std::optional<std::string>> HttpSession::readBody() {
  while (true) {
    std::string chunk;
    pumpBody(chunk);
    if (bodyStatus_ != 0) throw http::BodyError(bodyStatus_, bodyReason_);
    if (!chunk.empty()) {
      std::optional<std::string> result(std::move(chunk));
      co_return result;
    }
    if (bodyDone_) co_return std::nullopt;
    if (connection_.closed() || connection_.eofSeen()) {
      bodyStatus_ = 400;
      bodyReason_ = "the client closed the connection before the end of the body";
      throw http::BodyError(bodyStatus_, bodyReason_);
    }
    if (parser_.expectsContinue() && !continueSent_ && !streamHeadSent_) {
      // RFC 9110 10.1.1: the client holds the body back until told to send it.
      connection_.write("HTTP/1.1 100 Continue\r\n\r\n");
      continueSent_ = true;
    }
    bodyProgress_ = Worker::steadyNow();
    connection_.resumeReading();
    co_await BodyAwaiter{bodyWaiter_};
  }
}

void HttpSession::wakeBodyWaiter() {
  if (!bodyWaiter_) return;
  const std::coroutine_handle<> waiter = std::exchange(bodyWaiter_, {});
  connection_.worker().loop().post([waiter] { waiter.resume(); });  // not inside a read
}

void HttpSession::bodyLimitChanged(std::uint64_t maxBodySize) {
  parser_.setMaxBodySize(maxBodySize);
}

bool HttpSession::bodyAllowsKeepAlive() const noexcept {
  if (bodyDone_) return true;
  if (bodyStatus_ != 0) return false;  // the framing is lost or the rest is unwanted
  // The client waits for 100 Continue or a final answer; if it gets the final answer first
  // it may still send the body or not: only closing makes the next request unambiguous.
  if (parser_.expectsContinue() && !continueSent_) return false;
  if (const auto length = parser_.contentLength()) {
    if (*length > parser_.maxBodySize()) return false;
    // The responder has finished: what it left would have to be discarded.
    if (responseReady_ && *length - parser_.bodyBytesReceived() > kMaxDiscardedBody) return false;
  }
  return true;
}

void HttpSession::limitUnreadBody() noexcept {
  if (bodyDone_) return;
  const std::uint64_t limit = parser_.bodyBytesReceived() + kMaxDiscardedBody;
  if (limit < parser_.maxBodySize()) parser_.setMaxBodySize(limit);
}

bool HttpSession::answerBodyError() {
  http::Response& response = response_;
  if (response.streaming()) {
    // The response went out in part; the rest of the request cannot be framed.
    log::info("{}: request body failed ({} {}) during a streamed response: closing",
              connection_.remoteAddress(), bodyStatus_, bodyReason_);
    finishStream(response);
    connection_.shutdownAfterDrain(Worker::steadyNow() + server_.options().shutdownTimeout);
    return true;
  }
  if (!responderError_ && response.started() && response.status() >= 400) {
    return false;  // the responder answered the error itself (sent with Connection: close)
  }
  fail(bodyStatus_, bodyReason_);
  return true;
}

// ---- streamed responses ------------------------------------------------------------------

namespace {
// A streaming responder waits while more than this is queued for the client...
constexpr std::size_t kStreamHighWater = 1024 * 1024;
// ...and goes on once less than this is.
constexpr std::size_t kStreamLowWater = 256 * 1024;

struct DrainAwaiter {
  std::coroutine_handle<>& slot;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept { slot = awaiting; }
  void await_resume() const noexcept {}
};

void appendChunk(std::string& out, std::string_view chunk) {
  char size[20];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
  out.append(size, static_cast<std::size_t>(n));
  out.append(chunk);
  out.append("\r\n");
}
}  // namespace

const char* HttpSession::contentEncodingFor(http::Response& response, int status, bool streamed) {
  const ServerOptions& options = server_.options();
  http::Headers& headers = response.headers();
  if (!options.compressResponses || status != 200 || headers.contains("content-encoding")) {
    return nullptr;
  }
  const std::string_view type =
      headers.get("content-type").value_or(std::string_view(options.defaultContentType));
  if (!compressibleType(type)) return nullptr;
  // Caches must keep the variants apart, whether or not this one is compressed.
  if (!headers.hasToken("vary", "accept-encoding")) headers.add("Vary", "Accept-Encoding");
  if (request_.head().method == "HEAD") return nullptr;
  if (!streamed && response.body().size() < options.compressionMinimumLength) return nullptr;
  const char* encoding = chooseContentEncoding(request_.header("accept-encoding"));
  if (encoding == nullptr) return nullptr;
  if (auto etag = headers.get("etag"); etag && etag->size() >= 2 && etag->back() == '"') {
    // Another representation, another tag ("abc" -> "abc-gzip").
    std::string tagged(etag->substr(0, etag->size() - 1));
    tagged.append("-").append(encoding).append("\"");
    headers.set("ETag", tagged);
  }
  return encoding;
}

void HttpSession::compressWholeBody(http::Response& response, int status) {
  if (!server_.options().compressResponses) return;
  const std::string etag(response.headers().get("etag").value_or(""));
  const char* encoding = contentEncodingFor(response, status, false);  // (adds Vary)
  if (encoding == nullptr) return;
  std::string compressed;
  if (!BodyCompressor::compressWhole(encoding, response.body(), compressed) ||
      compressed.size() >= response.body().size()) {
    if (!etag.empty()) response.headers().set("ETag", etag);  // sent as it is after all
    return;
  }
  response.body() = std::move(compressed);
  response.headers().set("Content-Encoding", encoding);
}

bool HttpSession::writeStreamHead(http::Response& response) {
  const int status = response.status();
  if (const char* encoding = contentEncodingFor(response, status, true)) {
    response.headers().remove("content-length");  // the compressed length is not known
    response.headers().set("Content-Encoding", encoding);
    streamCompressor_ = std::make_unique<BodyCompressor>(encoding);
  }
  completeHeaders(response, status, true);
  streamBodyless_ =
      request_.head().method == "HEAD" || status < 200 || status == 204 || status == 304;
  streamHeadSent_ = true;
  connection_.setLowWaterMark(kStreamLowWater);
  std::string& out = connection_.outputBuffer();
  if (!http::writeResponseHead(out, status, response.headers(), serverFields_)) {
    log::error("{} {}: the streamed response has an invalid header: closing",
               connection_.remoteAddress(), request_.head().target);
    connection_.close();
    return false;
  }
  connection_.commitWrite();
  return true;
}

Task<> HttpSession::writeBody(http::Response& response, std::string chunk, bool last) {
  if (connection_.closed() || timedOut_) throw std::runtime_error("the client is gone");
  if (!streamHeadSent_ && !writeStreamHead(response)) {
    throw std::runtime_error("invalid response header");
  }
  std::string compressed;
  if (streamCompressor_ && !streamBodyless_) {
    if (!streamCompressor_->compress(chunk, last, compressed)) {
      throw std::runtime_error("response compression failed");
    }
    chunk = std::move(compressed);
  }
  if (!streamBodyless_) {
    std::string& out = connection_.outputBuffer();
    if (streamChunked_) {
      if (!chunk.empty()) appendChunk(out, chunk);
      if (last) out.append("0\r\n\r\n");
    } else {
      out.append(chunk);
    }
    connection_.commitWrite();
  }
  if (last) co_return;
  if (connection_.buffered() > kStreamHighWater) {
    co_await DrainAwaiter{drainWaiter_};
    if (connection_.closed()) throw std::runtime_error("the client is gone");
  }
}

void HttpSession::finishStream(http::Response& response) {
  if (response.ended()) return;
  if (!streamHeadSent_ && !writeStreamHead(response)) return;
  if (streamBodyless_) return;
  std::string& out = connection_.outputBuffer();
  if (streamCompressor_) {
    std::string tail;
    streamCompressor_->compress({}, true, tail);
    if (streamChunked_) {
      if (!tail.empty()) appendChunk(out, tail);
    } else {
      out.append(tail);
    }
  }
  if (streamChunked_) out.append("0\r\n\r\n");
  connection_.commitWrite();
}

void HttpSession::onBelowLowWater() {
  wakeDrainWaiter();
}

void HttpSession::onClosed() {
  wakeDrainWaiter();  // a streaming responder learns that the client is gone
  wakeBodyWaiter();   // so does one reading the body
}

void HttpSession::wakeDrainWaiter() {
  if (!drainWaiter_) return;
  const std::coroutine_handle<> waiter = std::exchange(drainWaiter_, {});
  connection_.worker().loop().post([waiter] { waiter.resume(); });  // never inside flush()
}

void HttpSession::fail(int status, std::string_view reason) {
  log::info("{}: {} {}", connection_.remoteAddress(), status, reason);
  http::Headers headers;
  headers.set("Date", dateCache.now());
  headers.set("Content-Type", "text/plain; charset=utf-8");
  headers.set("Connection", "close");
  std::string body = std::string(http::reasonPhrase(status)) + ": " + std::string(reason) + "\n";
  headers.set("Content-Length", std::to_string(body.size()));
  std::string& out = connection_.outputBuffer();
  (void)http::writeResponseHead(out, status, headers);
  // A response to HEAD has no content (RFC 9110 9.3.2), even for an error found later in
  // the request: the method is known once the request line was parsed.
  const std::string& method = answering_ ? request_.head().method : parser_.head().method;
  if (method != "HEAD") out.append(body);
  connection_.commitWrite();
  connection_.shutdownAfterDrain(Worker::steadyNow() + server_.options().shutdownTimeout);
}

void HttpSession::onEof() {
  // The client finished sending; what we answered so far still goes out. A responder
  // still running writes its response first (completeResponse() sees the EOF).
  if (busy_) {
    wakeBodyWaiter();  // a responder reading the body learns that it ends early
    return;
  }
  connection_.shutdownAfterDrain(Worker::steadyNow() + server_.options().shutdownTimeout);
}

void HttpSession::onTick(std::chrono::steady_clock::time_point now) {
  if (busy_ && !timedOut_ && answering_ &&
      response_.deadline() != std::chrono::steady_clock::time_point{} &&
      now >= response_.deadline()) {
    // The responder (e.g. a slow onHandshake) is still running: answer for it. Its
    // result is discarded when it finishes (completeResponse sees timedOut_).
    timedOut_ = true;
    fail(503, "response not ready in time (handshake timeout)");
    return;
  }
  if (busy_ && bodyWaiter_ && bodyStatus_ == 0 &&
      now - bodyProgress_ >= server_.options().headerTimeout) {
    // The responder waits for a body the client does not send: read() throws 408.
    bodyStatus_ = 408;
    bodyReason_ = "request body not received in time";
    wakeBodyWaiter();
    return;
  }
  if (busy_ || connection_.closeDeadline() != std::chrono::steady_clock::time_point{}) return;
  const ServerOptions& options = server_.options();
  if (connection_.encrypted() && !connection_.tlsHandshakeDone()) {
    // The TLS handshake counts against the time allowed for the request: a client that
    // stalls it is dropped (no HTTP status can be sent before TLS is up).
    if (now - idleSince_ >= options.headerTimeout) {
      log::info("{}: TLS handshake not finished within {} ms -> closing",
                connection_.remoteAddress(), options.headerTimeout.count());
      connection_.close();
    }
    return;
  }
  if (partialBytes_ > 0 || parser_.inBody()) {
    if (now - idleSince_ < options.headerTimeout) return;
    if (parser_.inBody()) {
      connection_.close();  // an unread body that stopped arriving: its response went out
    } else {
      fail(408, "request not received in time");
    }
    return;
  }
  if (now - idleSince_ >= options.keepAliveTimeout) connection_.close();
}

void HttpSession::shutdownGracefully() {
  stopping_ = true;
  if (!busy_) connection_.close();
}

}  // namespace aerie::detail
