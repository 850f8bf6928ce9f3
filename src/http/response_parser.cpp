#include "aerie/http/response_parser.hpp"

#include <algorithm>
#include <charconv>

namespace aerie::http {
namespace {

constexpr std::size_t kMaxChunkLine = 4096;

bool allDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view trimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

std::size_t ResponseParser::fail(std::string message, std::size_t consumed) {
  state_ = State::Failed;
  error_ = std::move(message);
  return consumed;
}

std::size_t ResponseParser::feed(std::string_view data) {
  std::size_t used = 0;
  if (state_ == State::Head) {
    used = feedHead(data);
    if (state_ != State::Body) return used;
  }
  if (state_ == State::Body) used += feedBody(data.substr(used));
  return used;
}

std::size_t ResponseParser::feedHead(std::string_view data) {
  // Look for the empty line from where the previous call stopped (a CRLFCRLF may straddle).
  const std::size_t before = head_.size();
  const std::size_t room = limits_.maxHeadSize - std::min(before, limits_.maxHeadSize);
  const std::size_t take = std::min(data.size(), room);
  head_.append(data.data(), take);
  const std::size_t from = before >= 3 ? before - 3 : 0;
  const auto end = head_.find("\r\n\r\n", from);
  if (end == std::string::npos) {
    if (take < data.size() || head_.size() >= limits_.maxHeadSize) {
      return fail("response head larger than " + std::to_string(limits_.maxHeadSize) + " bytes",
                  take);
    }
    return take;
  }
  const std::size_t headSize = end + 4;
  const std::size_t used = headSize - before;
  head_.resize(headSize);
  if (!parseHead(std::string_view(head_).substr(0, end))) return used;
  head_.clear();
  head_.shrink_to_fit();
  return used;
}

bool ResponseParser::parseHead(std::string_view head) {
  auto lineEnd = head.find("\r\n");
  std::string_view statusLine = head.substr(0, lineEnd);
  if (statusLine.find_first_of("\r\n") != std::string_view::npos) {
    fail("bare CR or LF in the status line", 0);
    return false;
  }
  // "HTTP/1.x SP 3DIGIT [SP reason]"
  if (statusLine.size() < 12 || statusLine.substr(0, 7) != "HTTP/1." || statusLine[8] != ' ' ||
      statusLine[7] < '0' || statusLine[7] > '9' || !allDigits(statusLine.substr(9, 3)) ||
      (statusLine.size() > 12 && statusLine[12] != ' ')) {
    fail("malformed status line '" + std::string(statusLine.substr(0, 80)) + "'", 0);
    return false;
  }
  versionMinor_ = statusLine[7] - '0';
  status_ = (statusLine[9] - '0') * 100 + (statusLine[10] - '0') * 10 + (statusLine[11] - '0');
  if (status_ < 100) {
    fail("status code " + std::to_string(status_) + " is out of range", 0);
    return false;
  }
  reason_ = std::string(statusLine.size() > 13 ? statusLine.substr(13) : std::string_view());
  for (const char c : reason_) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      fail("control character in the reason phrase", 0);
      return false;
    }
  }

  std::string_view rest =
      lineEnd == std::string_view::npos ? std::string_view() : head.substr(lineEnd + 2);
  std::string contentLength;
  bool haveLength = false;
  bool chunked = false;
  bool transferEncoding = false;
  while (!rest.empty()) {
    lineEnd = rest.find("\r\n");
    const std::string_view line = rest.substr(0, lineEnd);
    rest = lineEnd == std::string_view::npos ? std::string_view() : rest.substr(lineEnd + 2);
    if (line.front() == ' ' || line.front() == '\t') {
      fail("obsolete line folding in the response head", 0);
      return false;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || !isValidFieldName(line.substr(0, colon))) {
      fail("malformed header line '" + std::string(line.substr(0, 80)) + "'", 0);
      return false;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trimOws(line.substr(colon + 1));
    if (!isValidFieldValue(value) && !value.empty()) {
      fail("invalid characters in the value of " + std::string(name), 0);
      return false;
    }
    headers_.add(name, value);
    if (iequals(name, "Content-Length")) {
      if (!allDigits(value) || value.size() > 19) {
        fail("invalid Content-Length '" + std::string(value) + "'", 0);
        return false;
      }
      if (haveLength && contentLength != value) {
        fail("conflicting Content-Length values", 0);
        return false;
      }
      haveLength = true;
      contentLength = std::string(value);
    } else if (iequals(name, "Transfer-Encoding")) {
      transferEncoding = true;
      chunked = iequals(value, "chunked");
      if (!chunked) {
        fail("unsupported Transfer-Encoding '" + std::string(value) + "'", 0);
        return false;
      }
    }
  }
  if (haveLength && transferEncoding) {
    fail("both Content-Length and Transfer-Encoding", 0);
    return false;
  }
  const bool noBody = status_ < 200 || status_ == 204 || status_ == 304 ||
                      (connect_ && status_ >= 200 && status_ < 300);
  if (noBody) {
    state_ = State::Complete;
  } else if (chunked) {
    framing_ = Framing::Chunked;
    state_ = State::Body;
  } else if (haveLength) {
    std::from_chars(contentLength.data(), contentLength.data() + contentLength.size(), remaining_);
    framing_ = Framing::Length;
    state_ = remaining_ == 0 ? State::Complete : State::Body;
  } else {
    framing_ = Framing::UntilClose;
    state_ = State::Body;
  }
  return true;
}

void ResponseParser::keep(std::string_view bytes) {
  const std::size_t room = limits_.maxBodySize - std::min(body_.size(), limits_.maxBodySize);
  if (bytes.size() > room) truncated_ = true;
  body_.append(bytes.data(), std::min(bytes.size(), room));
}

std::size_t ResponseParser::feedBody(std::string_view data) {
  switch (framing_) {
    case Framing::Length: {
      const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
      keep(data.substr(0, take));
      remaining_ -= take;
      if (remaining_ == 0) state_ = State::Complete;
      return take;
    }
    case Framing::UntilClose:
      keep(data);
      return data.size();
    case Framing::Chunked:
      return feedChunked(data);
    case Framing::None:
      break;
  }
  return 0;
}

std::size_t ResponseParser::feedChunked(std::string_view data) {
  std::size_t pos = 0;
  while (pos < data.size() && state_ == State::Body) {
    if (chunkState_ == ChunkState::Data) {
      const auto take =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size() - pos));
      keep(data.substr(pos, take));
      pos += take;
      remaining_ -= take;
      if (remaining_ == 0) chunkState_ = ChunkState::DataEnd;
      continue;
    }
    // Line-oriented states: collect up to CRLF.
    const auto lf = data.find('\n', pos);
    const std::size_t end = lf == std::string_view::npos ? data.size() : lf + 1;
    line_.append(data.data() + pos, end - pos);
    pos = end;
    if (line_.size() > kMaxChunkLine) return fail("chunk line too long", pos);
    if (lf == std::string_view::npos) break;
    if (line_.size() < 2 || line_[line_.size() - 2] != '\r') return fail("bare LF in a chunk", pos);
    const std::string_view line(line_.data(), line_.size() - 2);
    if (chunkState_ == ChunkState::DataEnd) {
      if (!line.empty()) return fail("chunk data longer than its size", pos);
      chunkState_ = ChunkState::Size;
    } else if (chunkState_ == ChunkState::Size) {
      const std::string_view size = line.substr(0, line.find(';'));
      std::uint64_t value = 0;
      const auto [end2, error] = std::from_chars(size.data(), size.data() + size.size(), value, 16);
      if (error != std::errc() || end2 != size.data() + size.size() || size.empty() ||
          size.size() > 16) {
        return fail("invalid chunk size '" + std::string(size.substr(0, 20)) + "'", pos);
      }
      remaining_ = value;
      chunkState_ = value == 0 ? ChunkState::Trailer : ChunkState::Data;
    } else {  // Trailer: skipped up to the empty line
      if (line.empty()) state_ = State::Complete;
    }
    line_.clear();
  }
  return pos;
}

void ResponseParser::finish() {
  if (state_ == State::Body && framing_ == Framing::UntilClose) {
    state_ = State::Complete;
  } else if (state_ == State::Head || state_ == State::Body) {
    fail(state_ == State::Head ? "the connection closed inside the response head"
                               : "the connection closed inside the response body",
         0);
  }
}

}  // namespace aerie::http
