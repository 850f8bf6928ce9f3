// Fuzzes the opening-handshake helpers with a request-like text:
//   line 1: "<method> <target> HTTP/<major>.<minor>" (loosely split)
//   then:   "<name>: <value>" header lines (CRLF or LF)
// and checks invariants that must hold for every input: no crash or sanitizer report,
// format/parse round trips of extensions are stable, a 101 verdict carries a valid key,
// and built heads never contain a stray CR/LF.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "aerie/protocol/base64.hpp"
#include "aerie/protocol/handshake.hpp"
#include "aerie/protocol/header_values.hpp"

namespace {

using namespace aerie::protocol;

void check(bool condition) {
  if (!condition) std::abort();
}

std::vector<std::string_view> splitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// Counts "\r\n" pairs and checks there is no lone CR or LF: a head with an injected line
// break would show one.
std::size_t countLines(std::string_view head) {
  std::size_t lines = 0;
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r') {
      check(i + 1 < head.size() && head[i + 1] == '\n');
      ++lines;
      ++i;
    } else {
      check(head[i] != '\n');
    }
  }
  return lines;
}

void fuzzExtensions(std::string_view value) {
  const auto parsed = parseExtensions(value);
  if (!parsed) return;
  check(!parsed->empty());
  const std::string formatted = formatExtensions(*parsed);
  const auto reparsed = parseExtensions(formatted);
  check(reparsed.has_value());
  check(*reparsed == *parsed);
  check(formatExtensions(*reparsed) == formatted);
  check(isValidFieldValue(formatted));
}

void fuzzSubprotocols(std::string_view value) {
  const auto parsed = parseSubprotocols(value);
  if (!parsed) return;
  check(!parsed->empty());
  for (const std::string_view name : *parsed)
    check(isToken(name));
}

void fuzzValue(std::string_view value) {
  fuzzExtensions(value);
  fuzzSubprotocols(value);
  if (isValidClientKey(value)) {
    const auto decoded = base64Decode(value);
    check(decoded && decoded->size() == 16);
    check(computeAcceptKey(value).size() == 28);
  }
  if (const auto decoded = base64Decode(value)) {
    // Re-encoding gives the canonical form, which must decode to the same bytes.
    const auto again = base64Decode(base64Encode(*decoded));
    check(again && *again == *decoded);
  }
  for (const std::string_view element : splitTokenList(value)) {
    check(!element.empty());
    check(hasToken(value, element));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string_view> lines = splitLines(input);
  if (lines.empty()) return 0;

  // Request line.
  const std::string_view requestLine = lines[0];
  const std::size_t firstSpace = requestLine.find(' ');
  const std::string_view method = requestLine.substr(0, firstSpace);
  int major = 1;
  int minor = 1;
  const std::size_t httpPos = requestLine.rfind("HTTP/");
  if (httpPos != std::string_view::npos && httpPos + 8 <= requestLine.size()) {
    // "HTTP/" then the major digit, any separator, the minor digit; other bytes give
    // small (possibly negative) numbers, which exercise the version comparison's edges.
    major = requestLine[httpPos + 5] - '0';
    minor = requestLine[httpPos + 7] - '0';
  }

  std::vector<HeaderField> headers;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      fuzzValue(line);
      continue;
    }
    const HeaderField field{line.substr(0, colon), trimOws(line.substr(colon + 1))};
    headers.push_back(field);
    fuzzValue(field.value);
  }
  fuzzExtensions(input);

  // Server side.
  const HandshakeCheck verdict =
      validateUpgradeRequest(HandshakeRequestView{method, major, minor, headers});
  check(verdict.status == 101 || verdict.status == 400 || verdict.status == 405 ||
        verdict.status == 426);
  if (verdict.ok()) {
    check(isValidClientKey(verdict.key));
    check(verdict.extraHeaders.empty());
    check(verdict.reason.empty());
    const std::string accept = computeAcceptKey(verdict.key);
    const std::string extensions = combinedHeaderValue(headers, "Sec-WebSocket-Extensions");
    // The request's own "X-" headers stand in for the application's extra headers (the
    // handshake headers themselves would be refused as duplicates).
    std::vector<HeaderField> extras;
    for (const HeaderField& field : headers) {
      if (field.name.size() >= 2 && (field.name[0] == 'X' || field.name[0] == 'x') &&
          field.name[1] == '-') {
        extras.push_back(field);
      }
    }
    const std::string head = buildAcceptResponseHead(accept, {}, extensions, extras);
    if (!head.empty()) {
      check(head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
      check(head.ends_with("\r\n\r\n"));
      // Status line, Upgrade, Connection, Accept, [Extensions], extras, blank line.
      check(countLines(head) == 4 + (extensions.empty() ? 0 : 1) + extras.size() + 1);
    }
  } else {
    check(!verdict.reason.empty());
    check(verdict.key.empty());
    if (verdict.status == 405) check(verdict.extraHeaders.size() == 1);
    if (verdict.status == 426) check(verdict.extraHeaders.size() >= 2);
  }

  // Client side: treat the headers as a response, and as extra request headers.
  const std::vector<std::string> offered = {"chat", "superchat"};
  const std::string_view sentKey =
      headers.empty() ? std::string_view("dGhlIHNhbXBsZSBub25jZQ==") : headers[0].value;
  const ClientHandshakeCheck response = validateServerResponse(101, headers, sentKey, offered);
  if (response.ok) {
    check(response.error.empty());
    check(response.subprotocol.empty() || response.subprotocol == "chat" ||
          response.subprotocol == "superchat");
  } else {
    check(!response.error.empty());
  }

  ClientRequest request;
  request.target = lines[0].substr(firstSpace == std::string_view::npos ? 0 : firstSpace + 1);
  request.host = headers.empty() ? std::string_view("example.com") : headers[0].value;
  request.key = "dGhlIHNhbXBsZSBub25jZQ==";
  request.extraHeaders = headers;
  const std::string requestHead = buildClientRequestHead(request);
  if (!requestHead.empty()) {
    check(requestHead.starts_with("GET /"));
    // Request line + Host, Upgrade, Connection, Key, Version + extras + the blank line.
    check(countLines(requestHead) == 1 + 5 + headers.size() + 1);
  }
  return 0;
}
