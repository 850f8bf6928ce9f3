// Serialising a response head, and the HTTP date format (RFC 9110 5.6.7).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "aerie/http/headers.hpp"

namespace aerie::http {

/// Appends "HTTP/1.1 <status> <reason>\r\n", one "Name: value\r\n" per field and the
/// empty line to `out`. Returns false, appending nothing, if status is not three digits
/// (100-999) or a field has an invalid name or value (isValidFieldName/Value): a CR or
/// LF set by an application must never split the response. The caller decides framing
/// headers (Content-Length, Transfer-Encoding, Connection, Date); nothing is added.
[[nodiscard]] bool writeResponseHead(std::string& out, int status, const Headers& headers);

/// The fields a server adds to an application's response head: written after the
/// application's fields, replacing those of the same name where noted, and not validated
/// (the server builds them). Empty views and an unset length are not written. Keeping them
/// out of the Headers saves a lookup, a copy and a validation per field and response.
struct ServerFields {
  std::string_view date;                       // Date (replaces the application's)
  std::string_view server;                     // Server (added as is: set it only if absent)
  std::string_view contentType;                // Content-Type (added as is: likewise)
  std::optional<std::uint64_t> contentLength;  // Content-Length (replaces)
  bool chunked = false;                        // Transfer-Encoding: chunked (replaces)
  std::string_view connection;                 // Connection (replaces)
};

/// writeResponseHead() with the server's fields after the application's.
[[nodiscard]] bool writeResponseHead(std::string& out, int status, const Headers& headers,
                                     const ServerFields& server);

/// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (always 29 characters).
std::string formatHttpDate(std::time_t time);

/// Parses an HTTP date in the three forms RFC 9110 5.6.7 asks recipients to accept:
/// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", the only one senders may generate) and the
/// obsolete RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37
/// 1994") forms. A two-digit year more than 50 years after `now`'s is taken from the century
/// before. Anything else is nullopt, which conditional requests treat as absent (RFC 9110
/// 13.1.3). Names are case-sensitive; the weekday is checked for syntax only.
std::optional<std::time_t> parseHttpDate(std::string_view text,
                                         std::time_t now = std::time(nullptr));

/// The Date header value, formatted at most once per second. Not thread-safe: one per
/// event-loop thread.
class DateCache {
 public:
  /// The current time as an IMF-fixdate; valid until the next call.
  std::string_view now();
  /// The same for a given time (for tests and for callers that already know the time).
  std::string_view at(std::time_t time);

 private:
  std::time_t cachedTime_ = -1;
  char text_[29] = {};
};

}  // namespace aerie::http
