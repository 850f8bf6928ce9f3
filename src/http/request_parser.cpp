#include "aerie/http/request_parser.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "aerie/protocol/header_values.hpp"
#include "char_class.hpp"

namespace aerie::http {

namespace {

using detail::is;
using detail::isOws;

using protocol::trimOws;

/// Host = uri-host [ ":" port ] (RFC 9110 7.2): a reg-name (unreserved, pct-encoded,
/// sub-delims), an IPv4 address (a reg-name by syntax) or a bracketed IP literal. Empty is
/// allowed (a target without authority). Anything else is a malformed request: 400.
bool isValidHost(std::string_view host) noexcept {
  if (host.empty()) return true;
  std::string_view name = host;
  std::string_view port;
  if (host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    for (char c : host.substr(1, close - 1)) {
      const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex && c != ':' && c != '.' && c != 'v' && c != 'V') return false;
    }
    const std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    port = rest.empty() ? rest : rest.substr(1);
    name = {};
  } else if (const std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
    if (name.empty()) return false;
  }
  if (port.size() > 5) return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  for (char c : name) {
    if (!is(c, detail::kRegName)) return false;
  }
  return true;
}

bool isToken(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is(c, detail::kTchar)) return false;
  }
  return true;
}

// absolute-form: scheme "://" ... (RFC 3986 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" /
// "." )). Only hierarchical URIs make sense as HTTP request targets.
bool isAbsoluteForm(std::string_view target) noexcept {
  const std::size_t colon = target.find("://");
  if (colon == std::string_view::npos || colon == 0) return false;
  const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(target[0])) return false;
  for (std::size_t i = 1; i < colon; ++i) {
    const char c = target[i];
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

// Codings registered for Transfer-Encoding besides chunked (RFC 9110 18.6 and the
// obsolete "identity"): recognised, so that they get "not implemented" (501) rather
// than being mistaken for garbage, but never decoded.
bool isKnownNonChunkedCoding(std::string_view coding) noexcept {
  for (std::string_view known :
       {"gzip", "x-gzip", "deflate", "compress", "x-compress", "identity"}) {
    if (iequals(coding, known)) return true;
  }
  return false;
}

}  // namespace

RequestParser::RequestParser(const ParserLimits& limits) : limits_(limits) {
  startMessage();
}

void RequestParser::startMessage() noexcept {
  head_.clear();
  partial_.clear();
  state_ = State::RequestLine;
  bodyKind_ = BodyKind::None;
  expectsContinue_ = false;
  hasContentLength_ = false;
  hasTransferEncoding_ = false;
  teUnknown_ = false;
  teOtherKnown_ = false;
  teLastChunked_ = false;
  chunkDigits_ = 0;
  teChunkedCount_ = 0;
  hostCount_ = 0;
  headBytes_ = 0;
  sectionBytes_ = 0;
  contentLength_ = 0;
  bodyLimit_ = limits_.maxBodySize;
  bodyReceived_ = 0;
  remaining_ = 0;
  chunkSize_ = 0;
  failure_ = {};
}

void RequestParser::reset() noexcept {
  startMessage();
}

void RequestParser::releaseMemory() noexcept {
  const bool betweenMessages =
      state_ == State::Done || (state_ == State::RequestLine && partial_.empty());
  if (betweenMessages) {
    startMessage();
    head_ = RequestHead{};
    partial_ = std::string{};
  } else if (partial_.empty()) {
    partial_ = std::string{};
  }
}

void RequestParser::handHeadTo(RequestHead& into) {
  into.method.assign(head_.method);
  into.target.assign(head_.target);
  into.versionMajor = head_.versionMajor;
  into.versionMinor = head_.versionMinor;
  into.headers.swap(head_.headers);
}

std::optional<std::uint64_t> RequestParser::contentLength() const noexcept {
  if (bodyKind_ != BodyKind::ContentLength) return std::nullopt;
  return contentLength_;
}

bool RequestParser::inBody() const noexcept {
  return state_ != State::RequestLine && state_ != State::HeaderLines && state_ != State::Done &&
         state_ != State::Failed;
}

RequestParser::Result RequestParser::fail(Failure failure, std::size_t consumed) noexcept {
  state_ = State::Failed;
  failure_ = failure;
  Result result;
  result.event = Event::Error;
  result.consumed = consumed;
  result.status = failure.status;
  result.reason = failure.reason;
  return result;
}

RequestParser::Result RequestParser::feed(const char* data, std::size_t size) {
  switch (state_) {
    case State::Failed:
      return fail(failure_, 0);
    case State::Done:
      startMessage();
      return feedHead(data, size);
    case State::RequestLine:
    case State::HeaderLines:
      return feedHead(data, size);
    case State::BodyStart:
      return startBody(data, size);
    case State::Identity:
      return feedIdentity(data, size);
    case State::IdentityEnd:
      state_ = State::Done;
      return {Event::MessageComplete, 0, {}, 0, {}};
    default:
      return feedChunked(data, size);
  }
}

// ---------------------------------------------------------------------------------------
// Head: line by line. A line that is wholly inside the fed data is parsed in place; only
// a line cut by the end of the data is copied into partial_ (bounded by the limits).

RequestParser::Failure RequestParser::checkLineLimits(std::size_t lineBytes, bool endsWithCr,
                                                      bool complete) const noexcept {
  if (state_ == State::RequestLine) {
    // A trailing CR may be the start of the CRLF, which does not count: the measure only
    // grows as bytes arrive, whatever the split.
    const std::size_t length = lineBytes - (endsWithCr ? 1 : 0);
    const std::size_t headRoom = limits_.maxHeaderSize >= 2 ? limits_.maxHeaderSize - 2 : 0;
    if (length > std::min(limits_.maxRequestLineSize, headRoom)) {
      return {414, "request line too long"};
    }
    return {};
  }
  if (headBytes_ + lineBytes + (complete ? 1 : 0) > limits_.maxHeaderSize) {
    return {431, "request head too large"};
  }
  return {};
}

RequestParser::Result RequestParser::feedHead(const char* data, std::size_t size) {
  std::size_t pos = 0;
  while (pos < size) {
    const char* begin = data + pos;
    const std::size_t available = size - pos;
    const void* lf = std::memchr(begin, '\n', available);
    if (lf == nullptr) {
      const std::size_t lineBytes = partial_.size() + available;
      if (Failure f = checkLineLimits(lineBytes, begin[available - 1] == '\r', false)) {
        return fail(f, pos);
      }
      partial_.append(begin, available);
      return {Event::NeedMore, size, {}, 0, {}};
    }

    const auto length = static_cast<std::size_t>(static_cast<const char*>(lf) - begin);
    const std::size_t lineBytes = partial_.size() + length;
    const bool endsWithCr =
        length > 0 ? begin[length - 1] == '\r' : (!partial_.empty() && partial_.back() == '\r');
    if (Failure f = checkLineLimits(lineBytes, endsWithCr, true)) return fail(f, pos);
    std::string_view line;
    if (partial_.empty()) {
      line = {begin, length};
    } else {
      partial_.append(begin, length);
      line = partial_;
    }
    pos += length + 1;
    if (!endsWithCr) return fail({400, "bare LF line ending"}, pos);
    line.remove_suffix(1);

    Failure failure;
    if (state_ == State::RequestLine) {
      if (!line.empty()) {  // empty lines before a request are skipped (RFC 9112 2.2)
        failure = parseRequestLine(line);
        headBytes_ = line.size() + 2;
        state_ = State::HeaderLines;
      }
    } else if (line.empty()) {
      headBytes_ += 2;
      partial_.clear();
      if (Failure f = finishHead()) return fail(f, pos);
      state_ = State::BodyStart;
      return {Event::HeadComplete, pos, {}, 0, {}};
    } else {
      headBytes_ += line.size() + 2;
      failure = parseHeaderLine(line);
    }
    partial_.clear();
    if (failure) return fail(failure, pos);
  }
  return {Event::NeedMore, size, {}, 0, {}};
}

RequestParser::Failure RequestParser::parseRequestLine(std::string_view line) {
  const std::size_t methodEnd = line.find(' ');
  if (methodEnd == std::string_view::npos) return {400, "malformed request line"};
  const std::string_view method = line.substr(0, methodEnd);
  if (!isToken(method)) return {400, "invalid method"};

  const std::string_view rest = line.substr(methodEnd + 1);
  const std::size_t targetEnd = rest.find(' ');
  if (targetEnd == std::string_view::npos) return {400, "malformed request line"};
  const std::string_view target = rest.substr(0, targetEnd);
  const std::string_view version = rest.substr(targetEnd + 1);

  // Known from here on even if the line fails below: an error answer to HEAD has no body.
  head_.method.assign(method);
  if (target.empty()) return {400, "empty request-target"};
  if (!detail::allTarget(target.data(), target.size())) {
    return {400, "invalid character in request-target"};
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !is(version[5], detail::kDigit) ||
      version[6] != '.' || !is(version[7], detail::kDigit)) {
    return {400, "malformed HTTP version"};
  }
  const int major = version[5] - '0';
  const int minor = version[7] - '0';
  if (major != 1 || minor > 1) return {505, "HTTP version not supported"};

  if (target.front() != '/') {
    if (target == "*") {
      if (method != "OPTIONS") return {400, "asterisk-form target is for OPTIONS only"};
    } else if (method == "CONNECT") {
      if (target.find('/') != std::string_view::npos) return {400, "invalid CONNECT target"};
    } else if (!isAbsoluteForm(target)) {
      return {400, "invalid request-target"};
    }
  }

  head_.target.assign(target);
  head_.versionMajor = major;
  head_.versionMinor = minor;
  return {};
}

RequestParser::Failure RequestParser::parseHeaderLine(std::string_view line) {
  // obs-fold (a continuation line) and whitespace before the first field are both
  // rejected (RFC 9112 5.2 and 2.2).
  if (isOws(line.front())) return {400, "obsolete line folding"};
  std::size_t colon = 0;
  while (colon < line.size() && is(line[colon], detail::kTchar))
    ++colon;
  if (colon == line.size()) return {400, "header field without colon"};
  if (line[colon] != ':') {
    if (isOws(line[colon])) return {400, "whitespace before colon"};
    return {400, "invalid character in header name"};
  }
  if (colon == 0) return {400, "empty header name"};
  const std::string_view name = line.substr(0, colon);
  const std::string_view raw = line.substr(colon + 1);
  if (!detail::allFieldVchar(raw.data(), raw.size())) {
    return {400, "invalid character in header value"};
  }
  const std::string_view value = trimOws(raw);
  if (head_.headers.size() >= limits_.maxHeaderCount) return {431, "too many header fields"};

  // The fields that decide framing and validity, recognised by length first.
  switch (name.size()) {
    case 4:
      if (name == "Host" || iequals(name, "host")) {  // (the usual spelling first)
        if (++hostCount_ > 1) return {400, "multiple Host fields"};
        if (!isValidHost(value)) return {400, "invalid Host"};
      }
      break;
    case 6:
      if (iequals(name, "expect") && iequals(value, "100-continue")) expectsContinue_ = true;
      break;
    case 14:
      if (iequals(name, "content-length")) {
        if (Failure f = parseContentLength(value)) return f;
      }
      break;
    case 17:
      if (iequals(name, "transfer-encoding")) {
        if (Failure f = parseTransferEncoding(value)) return f;
      }
      break;
    default:
      break;
  }
  head_.headers.add(name, value);
  return {};
}

RequestParser::Failure RequestParser::parseContentLength(std::string_view value) noexcept {
  // RFC 9110 8.6: a list of identical values ("5, 5", or repeated fields) may be taken as
  // one; anything else is an unrecoverable framing error.
  while (true) {
    const std::size_t comma = value.find(',');
    const std::string_view element = trimOws(value.substr(0, comma));
    if (element.empty()) return {400, "invalid Content-Length"};
    std::uint64_t length = 0;
    for (char c : element) {
      if (!is(c, detail::kDigit)) return {400, "invalid Content-Length"};
      const auto digit = static_cast<std::uint64_t>(c - '0');
      if (length > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
        return {400, "Content-Length out of range"};
      }
      length = length * 10 + digit;
    }
    if (hasContentLength_ && length != contentLength_) return {400, "conflicting Content-Length"};
    hasContentLength_ = true;
    contentLength_ = length;
    if (comma == std::string_view::npos) return {};
    value.remove_prefix(comma + 1);
  }
}

RequestParser::Failure RequestParser::parseTransferEncoding(std::string_view value) noexcept {
  hasTransferEncoding_ = true;
  while (true) {
    const std::size_t comma = value.find(',');
    std::string_view element = trimOws(value.substr(0, comma));
    // Empty elements are refused, not skipped: "chunked," must not be read as ending in
    // chunked by us and in "" by someone else.
    if (element.empty()) return {400, "empty Transfer-Encoding element"};
    const std::size_t params = element.find(';');
    const std::string_view coding = trimOws(element.substr(0, params));
    if (!isToken(coding)) return {400, "invalid Transfer-Encoding"};
    if (iequals(coding, "chunked")) {
      if (params != std::string_view::npos) return {400, "parameters on chunked"};
      ++teChunkedCount_;
      teLastChunked_ = true;
    } else {
      if (isKnownNonChunkedCoding(coding)) {
        teOtherKnown_ = true;
      } else {
        teUnknown_ = true;
      }
      teLastChunked_ = false;
    }
    if (comma == std::string_view::npos) return {};
    value.remove_prefix(comma + 1);
  }
}

RequestParser::Failure RequestParser::finishHead() noexcept {
  const bool http10 = head_.versionMinor == 0;
  if (!http10 && hostCount_ == 0) return {400, "missing Host"};
  if (http10) expectsContinue_ = false;  // RFC 9110 10.1.1
  if (hasTransferEncoding_) {
    if (http10) return {400, "Transfer-Encoding in HTTP/1.0 request"};
    if (hasContentLength_) return {400, "both Content-Length and Transfer-Encoding"};
    if (teUnknown_) return {501, "unknown transfer coding"};
    if (!teLastChunked_ || teChunkedCount_ != 1) {
      return {400, "chunked must be the final transfer coding, once"};
    }
    if (teOtherKnown_) return {501, "transfer coding not implemented"};
    bodyKind_ = BodyKind::Chunked;
  } else if (hasContentLength_) {
    bodyKind_ = BodyKind::ContentLength;
  }
  return {};
}

// ---------------------------------------------------------------------------------------
// Body

RequestParser::Result RequestParser::startBody(const char* data, std::size_t size) {
  switch (bodyKind_) {
    case BodyKind::None:
      state_ = State::Done;
      return {Event::MessageComplete, 0, {}, 0, {}};
    case BodyKind::ContentLength:
      if (contentLength_ > bodyLimit_) return fail({413, "body too large"}, 0);
      if (contentLength_ == 0) {
        state_ = State::Done;
        return {Event::MessageComplete, 0, {}, 0, {}};
      }
      remaining_ = contentLength_;
      state_ = State::Identity;
      return feedIdentity(data, size);
    case BodyKind::Chunked:
      state_ = State::ChunkSize;
      return feedChunked(data, size);
  }
  return fail({500, "invalid parser state"}, 0);
}

RequestParser::Result RequestParser::feedIdentity(const char* data, std::size_t size) {
  if (size == 0) return {Event::NeedMore, 0, {}, 0, {}};
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, size));
  remaining_ -= n;
  bodyReceived_ += n;
  if (remaining_ == 0) state_ = State::IdentityEnd;
  return {Event::BodyChunk, n, {data, n}, 0, {}};
}

RequestParser::Result RequestParser::feedChunked(const char* data, std::size_t size) {
  std::size_t pos = 0;
  while (pos < size) {
    if (state_ == State::ChunkData) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, size - pos));
      remaining_ -= n;
      bodyReceived_ += n;
      if (remaining_ == 0) state_ = State::ChunkDataCr;
      return {Event::BodyChunk, pos + n, {data + pos, n}, 0, {}};
    }
    const char c = data[pos++];
    switch (state_) {
      case State::ChunkSize: {
        const int digit = detail::hexValue(c);
        if (digit >= 0) {
          if (++chunkDigits_ > 16) return fail({400, "chunk size too long"}, pos);
          chunkSize_ = chunkSize_ * 16 + static_cast<std::uint64_t>(digit);
          // The size only grows with more digits: fail as soon as the total would exceed.
          if (bodyReceived_ > bodyLimit_ || chunkSize_ > bodyLimit_ - bodyReceived_) {
            return fail({413, "body too large"}, pos);
          }
          ++sectionBytes_;
          break;
        }
        if (chunkDigits_ == 0) return fail({400, "missing chunk size"}, pos);
        if (c == ';') {
          state_ = State::ChunkExt;
        } else if (isOws(c)) {
          state_ = State::ChunkSizeWs;
        } else if (c == '\r') {
          state_ = State::ChunkSizeLf;
          break;
        } else {
          return fail({400, "invalid chunk size"}, pos);
        }
        ++sectionBytes_;
        break;
      }
      case State::ChunkSizeWs:
        // BWS is only allowed before an extension (RFC 9112 7.1.1).
        if (c == ';') {
          state_ = State::ChunkExt;
        } else if (!isOws(c)) {
          return fail({400, "invalid chunk size line"}, pos);
        }
        if (++sectionBytes_ > limits_.maxChunkLineSize) {
          return fail({400, "chunk extension too long"}, pos);
        }
        break;
      case State::ChunkExt:
        // Extensions are skipped, but a bare LF or other control in them is refused:
        // parsers that disagree on where such a line ends can be made to desynchronise.
        if (c == '\r') {
          state_ = State::ChunkSizeLf;
          break;
        }
        if (!is(c, detail::kChunkExt)) return fail({400, "invalid chunk extension"}, pos);
        if (++sectionBytes_ > limits_.maxChunkLineSize) {
          return fail({400, "chunk extension too long"}, pos);
        }
        break;
      case State::ChunkSizeLf:
        if (c != '\n') return fail({400, "expected LF after chunk size"}, pos);
        sectionBytes_ = 0;
        chunkDigits_ = 0;
        if (chunkSize_ == 0) {
          state_ = State::TrailerLineStart;
        } else {
          remaining_ = chunkSize_;
          chunkSize_ = 0;
          state_ = State::ChunkData;
        }
        break;
      case State::ChunkDataCr:
        if (c != '\r') return fail({400, "expected CRLF after chunk data"}, pos);
        state_ = State::ChunkDataLf;
        break;
      case State::ChunkDataLf:
        if (c != '\n') return fail({400, "expected CRLF after chunk data"}, pos);
        state_ = State::ChunkSize;
        break;
      default: {
        // Trailer section: field lines checked like header lines, then discarded.
        if (++sectionBytes_ > limits_.maxHeaderSize) return fail({431, "trailers too large"}, pos);
        switch (state_) {
          case State::TrailerLineStart:
            if (c == '\r') {
              state_ = State::TrailerEndLf;
            } else if (is(c, detail::kTchar)) {
              state_ = State::TrailerName;
            } else if (isOws(c)) {
              return fail({400, "obsolete line folding in trailer"}, pos);
            } else {
              return fail({400, "invalid trailer field"}, pos);
            }
            break;
          case State::TrailerName:
            if (c == ':') {
              state_ = State::TrailerValue;
            } else if (!is(c, detail::kTchar)) {
              return fail({400, "invalid trailer field name"}, pos);
            }
            break;
          case State::TrailerValue:
            if (c == '\r') {
              state_ = State::TrailerLineLf;
            } else if (!is(c, detail::kFieldVchar)) {
              return fail({400, "invalid trailer field value"}, pos);
            }
            break;
          case State::TrailerLineLf:
            if (c != '\n') return fail({400, "bare CR in trailer"}, pos);
            state_ = State::TrailerLineStart;
            break;
          case State::TrailerEndLf:
            if (c != '\n') return fail({400, "bare CR after trailers"}, pos);
            state_ = State::Done;
            return {Event::MessageComplete, pos, {}, 0, {}};
          default:
            return fail({500, "invalid parser state"}, pos);
        }
        break;
      }
    }
  }
  return {Event::NeedMore, size, {}, 0, {}};
}

}  // namespace aerie::http
