// HTTP header field values the opening handshake reads and writes: token lists
// (RFC 7230 section 7 "#rule"), tokens (RFC 7230 3.2.6), Sec-WebSocket-Protocol
// (RFC 6455 4.3) and Sec-WebSocket-Extensions (RFC 6455 9.1, used by RFC 7692).
//
// Everything here is ASCII: header names and the tokens compared here are ASCII by
// grammar, so "case-insensitive" means ASCII case folding, never locale-dependent.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aerie::protocol {

/// One header field of a request or response, as the HTTP layer parsed it (value without
/// the surrounding optional whitespace). Views into the parser's buffer.
struct HeaderField {
  std::string_view name;
  std::string_view value;
};

/// RFC 7230 tchar: "!#$%&'*+-.^_`|~", digits and letters.
constexpr bool isTchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

/// True for a non-empty string of tchars.
bool isToken(std::string_view text) noexcept;

/// ASCII case-insensitive equality.
bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept;

/// Removes leading and trailing optional whitespace (SP / HTAB, RFC 7230 OWS).
std::string_view trimOws(std::string_view text) noexcept;

/// True when `value` may be written as a header field value: no control characters other
/// than HTAB (in particular no CR, LF or NUL, which would let a value inject headers).
bool isValidFieldValue(std::string_view value) noexcept;

/// Splits a comma-separated list (RFC 7230 #rule): elements trimmed of OWS, empty
/// elements skipped (" a ,, b " -> {"a", "b"}). Does not check that the elements are
/// tokens and does not understand quoted strings; use it for token lists only.
std::vector<std::string_view> splitTokenList(std::string_view list);

/// True when the comma list `list` has an element equal to `token`, ignoring ASCII case
/// ("keep-alive, Upgrade" has "upgrade"). Does not allocate.
bool hasToken(std::string_view list, std::string_view token) noexcept;

// ---- Looking headers up by name (names compare case-insensitively). ----

/// Number of fields named `name`.
std::size_t countHeaders(std::span<const HeaderField> headers, std::string_view name) noexcept;

/// The first field named `name`, or nullptr.
const HeaderField* findHeader(std::span<const HeaderField> headers, std::string_view name) noexcept;

/// True when any field named `name` has `token` in its comma list: a header repeated on
/// several lines is one list (RFC 7230 3.2.2), so "Connection: keep-alive" followed by
/// "Connection: Upgrade" has "upgrade".
bool headersHaveToken(std::span<const HeaderField> headers, std::string_view name,
                      std::string_view token) noexcept;

/// The values of all fields named `name` joined with ", " (RFC 7230 3.2.2); empty when
/// there is none.
std::string combinedHeaderValue(std::span<const HeaderField> headers, std::string_view name);

// ---- Sec-WebSocket-Protocol ----

/// Parses a Sec-WebSocket-Protocol value: 1#token. Returns the subprotocol names in
/// order (views into `value`), or nullopt when an element is not a token or the list
/// is empty. Names are case-sensitive (RFC 7936); duplicates are kept.
std::optional<std::vector<std::string_view>> parseSubprotocols(std::string_view value);

// ---- Sec-WebSocket-Extensions (RFC 6455 section 9.1) ----
//
//   extension-list = 1#extension
//   extension      = extension-token *( ";" extension-param )
//   extension-param = token [ "=" ( token / quoted-string ) ]
//
// with OWS around ";", "=" and ",", and a quoted-string value that must itself be a
// token once unescaped.

struct ExtensionParam {
  std::string name;
  std::optional<std::string> value;  // unescaped; nullopt for a bare parameter

  bool operator==(const ExtensionParam&) const = default;
};

struct ExtensionOffer {
  std::string name;
  std::vector<ExtensionParam> params;

  bool operator==(const ExtensionOffer&) const = default;
};

/// Parses one header value (or several joined with ","), e.g.
/// `permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits="10"`.
/// Several offers of the same extension are kept in order (they are alternatives, most
/// preferred first). Returns nullopt for anything outside the grammar: a missing name,
/// an empty parameter (";;" or a trailing ";"), "=" without a value, an unterminated
/// quoted string, a quoted value that is not a token, or non-token characters. Empty list
/// elements (",,") are skipped as RFC 7230 7 requires, but at least one extension must
/// be present.
std::optional<std::vector<ExtensionOffer>> parseExtensions(std::string_view value);

/// Formats offers as a header value: "name; param; param=value, name2". Values that are
/// tokens are written bare; other values are written as quoted strings (which
/// parseExtensions would reject, since RFC 6455 only allows token values). Names are
/// written as given: pass tokens. The result is not checked for control characters;
/// the head builders in handshake.hpp refuse those.
std::string formatExtensions(std::span<const ExtensionOffer> offers);

}  // namespace aerie::protocol
