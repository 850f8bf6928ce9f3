#include "aerie/http/response_parser.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>

#include "aerie/protocol/header_values.hpp"
#include "char_class.hpp"

namespace aerie::http {
namespace {

using detail::is;
using detail::isOws;

// RFC 9112 7.1 sets no bound: the request parser's default maxChunkLineSize.
constexpr std::size_t kMaxChunkSizeLine = 4096;
constexpr std::size_t kMaxChunkSizeDigits = 16;  // up to 2^64 - 1

using protocol::trimOws;

/// Peer bytes for an error message: quoted, at most 64 of them, non-printables escaped
/// (the message ends up in exceptions and logs).
std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxQuoted = 64;
  constexpr std::string_view kHexDigits = "0123456789abcdef";
  std::string out = "'";
  for (const char c : text.substr(0, kMaxQuoted)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHexDigits[byte >> 4];
      out += kHexDigits[byte & 0xf];
    }
  }
  out += text.size() > kMaxQuoted ? "'..." : "'";
  return out;
}

bool allDigits(std::string_view text) noexcept {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return is(c, detail::kDigit); });
}

}  // namespace

void ResponseParser::setRequestMethod(std::string_view method) noexcept {
  // Methods are case-sensitive (RFC 9110 9.1).
  connectRequest_ = method == "CONNECT";
  headRequest_ = method == "HEAD";
}

bool ResponseParser::fail(std::string message) {
  state_ = State::Failed;
  error_ = std::move(message);
  return false;
}

std::size_t ResponseParser::feed(std::string_view data) {
  std::size_t pos = 0;
  while (pos < data.size() && (state_ == State::Head || state_ == State::Body)) {
    switch (step_) {
      case Step::StatusLine:
      case Step::FieldLine:
      case Step::ChunkSizeLine:
      case Step::TrailerLine: {
        const LineResult result = readLine(data, pos, lineBudget());
        if (result == LineResult::Complete) {
          sectionBytes_ += line_.size() + 2;
          onLine(line_);
          line_.clear();
        } else if (result != LineResult::Partial) {
          failLine(result);
        }
        break;
      }
      case Step::LengthBody:
      case Step::ChunkData: {
        const auto take =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size() - pos));
        keep(data.substr(pos, take));
        pos += take;
        remaining_ -= take;
        if (remaining_ == 0) {
          if (step_ == Step::LengthBody) {
            state_ = State::Complete;
          } else {
            step_ = Step::ChunkDataEnd;
          }
        }
        break;
      }
      case Step::UntilCloseBody:
        keep(data.substr(pos));
        pos = data.size();
        break;
      case Step::ChunkDataEnd:
        onChunkDataEnd(data[pos++]);
        break;
    }
  }
  return pos;
}

// Moves bytes up to the next line end into line_. The byte that makes the line (line
// end included) longer than maxBytes, a LF without CR and a CR without LF each end the
// line with a failure; that byte counts as used.
ResponseParser::LineResult ResponseParser::readLine(std::string_view data, std::size_t& pos,
                                                    std::size_t maxBytes) {
  while (pos < data.size()) {
    const char c = data[pos++];
    if (line_.size() + (lineCr_ ? 1 : 0) + 1 > maxBytes) return LineResult::TooLong;
    if (lineCr_) {
      lineCr_ = false;
      return c == '\n' ? LineResult::Complete : LineResult::BareCr;
    }
    if (c == '\r') {
      lineCr_ = true;
    } else if (c == '\n') {
      return LineResult::BareLf;
    } else {
      line_ += c;
    }
  }
  return LineResult::Partial;
}

std::size_t ResponseParser::lineBudget() const noexcept {
  if (step_ == Step::ChunkSizeLine) return kMaxChunkSizeLine + 2;
  // Lines never pass the budget, so sectionBytes_ <= maxHeadSize.
  return limits_.maxHeadSize - sectionBytes_;
}

void ResponseParser::failLine(LineResult result) {
  const bool head = state_ == State::Head;
  const std::string where = head                         ? "response head"
                            : step_ == Step::TrailerLine ? "trailer section"
                                                         : "chunked body";
  switch (result) {
    case LineResult::TooLong:
      if (step_ == Step::ChunkSizeLine) {
        fail("chunk-size line longer than " + std::to_string(kMaxChunkSizeLine) + " bytes");
      } else {
        fail(where + " larger than " + std::to_string(limits_.maxHeadSize) + " bytes");
      }
      break;
    case LineResult::BareCr:
      fail("bare CR in the " + where);
      break;
    case LineResult::BareLf:
      fail("bare LF in the " + where + " (lines must end in CRLF)");
      break;
    case LineResult::Partial:
    case LineResult::Complete:
      break;
  }
}

void ResponseParser::onLine(std::string_view line) {
  switch (step_) {
    case Step::StatusLine:
      if (parseStatusLine(line)) step_ = Step::FieldLine;
      break;
    case Step::FieldLine:
      if (line.empty()) {
        finishHead();
      } else {
        parseFieldLine(line, /*isTrailer=*/false);
      }
      break;
    case Step::ChunkSizeLine:
      parseChunkSizeLine(line);
      break;
    case Step::TrailerLine:
      // Trailers are checked like header fields, then dropped: nothing here needs them.
      if (line.empty()) {
        state_ = State::Complete;
      } else {
        parseFieldLine(line, /*isTrailer=*/true);
      }
      break;
    case Step::LengthBody:
    case Step::UntilCloseBody:
    case Step::ChunkData:
    case Step::ChunkDataEnd:
      break;
  }
}

bool ResponseParser::parseStatusLine(std::string_view line) {
  // HTTP-version SP 3DIGIT [SP reason-phrase], HTTP-version = "HTTP/" DIGIT "." DIGIT.
  const bool version = line.size() >= 8 && line.substr(0, 5) == "HTTP/" &&
                       is(line[5], detail::kDigit) && line[6] == '.' && is(line[7], detail::kDigit);
  if (!version || line.size() < 12 || line[8] != ' ' || !allDigits(line.substr(9, 3)) ||
      (line.size() > 12 && line[12] != ' ')) {
    return fail("malformed status line " + quoted(line));
  }
  if (line[5] != '1') return fail("unsupported HTTP version " + quoted(line.substr(0, 8)));
  versionMinor_ = line[7] - '0';
  status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (status_ < 100) return fail("status code " + quoted(line.substr(9, 3)) + " below 100");
  const std::string_view reason = line.size() > 13 ? line.substr(13) : std::string_view();
  if (!detail::allFieldVchar(reason.data(), reason.size())) {
    return fail("invalid character in the reason phrase " + quoted(reason));
  }
  reason_ = std::string(reason);
  return true;
}

bool ResponseParser::parseFieldLine(std::string_view line, bool isTrailer) {
  const std::string kind = isTrailer ? "trailer" : "header";
  // obs-fold, and whitespace between the status line and the first field (RFC 9112 5.2,
  // 2.2): both rejected.
  if (isOws(line.front())) {
    return fail("obsolete line folding (a " + kind + " line starting with whitespace)");
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return fail(kind + " line without a colon " + quoted(line));
  const std::string_view name = line.substr(0, colon);
  if (name.empty()) return fail(kind + " line without a name " + quoted(line));
  if (isOws(name.back())) return fail("whitespace before the colon in " + quoted(line));
  if (!isValidFieldName(name)) return fail("invalid " + kind + " name " + quoted(name));
  const std::string_view value = trimOws(line.substr(colon + 1));
  if (!isValidFieldValue(value)) {
    return fail("invalid character in the value of " + kind + " " + quoted(name));
  }
  if (!isTrailer) headers_.add(name, value);
  return true;
}

bool ResponseParser::finishHead() {
  headComplete_ = true;
  // RFC 9112 6.3: these end with the head whatever framing fields they carry.
  const bool noBody = status_ < 200 || status_ == 204 || status_ == 304 || headRequest_ ||
                      (connectRequest_ && status_ < 300);
  if (noBody) {
    state_ = State::Complete;
    return true;
  }
  const bool hasLength = headers_.contains("Content-Length");
  if (headers_.contains("Transfer-Encoding")) {
    // A response framed two ways is how response splitting looks (RFC 9112 6.3).
    if (hasLength) return fail("both Content-Length and Transfer-Encoding");
    const std::string codings = headers_.combined("Transfer-Encoding");
    if (!iequals(codings, "chunked")) {
      return fail("unsupported Transfer-Encoding " + quoted(codings) +
                  " (only chunked is implemented)");
    }
    state_ = State::Body;
    step_ = Step::ChunkSizeLine;
    return true;
  }
  if (hasLength) {
    bool first = true;
    for (const HeaderField& field : headers_) {
      if (!iequals(field.name, "Content-Length")) continue;
      std::uint64_t length = 0;
      const char* end = field.value.data() + field.value.size();
      const auto [stop, error] = std::from_chars(field.value.data(), end, length);
      if (!allDigits(field.value) || error != std::errc() || stop != end) {
        return fail("invalid Content-Length " + quoted(field.value));
      }
      if (!first && length != contentLength_) {
        return fail("conflicting Content-Length values " + std::to_string(contentLength_) +
                    " and " + std::to_string(length));
      }
      contentLength_ = length;
      first = false;
    }
    remaining_ = contentLength_;
    state_ = contentLength_ == 0 ? State::Complete : State::Body;
    step_ = Step::LengthBody;
    return true;
  }
  state_ = State::Body;
  step_ = Step::UntilCloseBody;
  return true;
}

bool ResponseParser::parseChunkSizeLine(std::string_view line) {
  // chunk-size [BWS ";" chunk-ext]: the extensions are skipped, but a control character
  // in them fails, as in the request parser.
  std::size_t digits = 0;
  std::uint64_t size = 0;
  while (digits < line.size() && is(line[digits], detail::kHex)) {
    size = size * 16 + static_cast<std::uint64_t>(detail::hexValue(line[digits]));
    if (++digits > kMaxChunkSizeDigits) return fail("chunk size " + quoted(line) + " too large");
  }
  std::string_view rest = line.substr(digits);
  const std::size_t bws = std::min(rest.find_first_not_of(" \t"), rest.size());
  rest.remove_prefix(bws);
  if (digits == 0 || (!rest.empty() && rest.front() != ';') || (bws > 0 && rest.empty())) {
    return fail("invalid chunk-size line " + quoted(line));
  }
  if (!std::all_of(rest.begin(), rest.end(), [](char c) { return is(c, detail::kChunkExt); })) {
    return fail("invalid character in a chunk extension " + quoted(rest));
  }
  if (size == 0) {
    step_ = Step::TrailerLine;
    sectionBytes_ = 0;
  } else {
    step_ = Step::ChunkData;
    remaining_ = size;
  }
  return true;
}

void ResponseParser::onChunkDataEnd(char c) {
  if (!lineCr_) {
    if (c == '\r') {
      lineCr_ = true;
    } else if (c == '\n') {
      fail("bare LF after chunk data (lines must end in CRLF)");
    } else {
      fail("chunk data longer than its chunk size");
    }
    return;
  }
  lineCr_ = false;
  if (c != '\n') {
    fail("bare CR after chunk data");
    return;
  }
  step_ = Step::ChunkSizeLine;
}

void ResponseParser::keep(std::string_view bytes) {
  const std::size_t room = limits_.maxBodySize - std::min(body_.size(), limits_.maxBodySize);
  if (bytes.size() > room) truncated_ = true;
  body_.append(bytes.data(), std::min(bytes.size(), room));
}

void ResponseParser::finish() {
  if (state_ == State::Head) {
    const bool nothing = step_ == Step::StatusLine && line_.empty() && !lineCr_;
    fail(nothing ? "the connection closed before any response"
                 : "the connection closed inside the response head");
  } else if (state_ == State::Body) {
    if (step_ == Step::UntilCloseBody) {
      state_ = State::Complete;
    } else if (step_ == Step::LengthBody) {
      fail("the connection closed after " + std::to_string(contentLength_ - remaining_) + " of " +
           std::to_string(contentLength_) + " body bytes");
    } else {
      fail("the connection closed inside the chunked body");
    }
  }
}

}  // namespace aerie::http
