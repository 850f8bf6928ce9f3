#include "aerie/http/response_head.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "aerie/http/status.hpp"

namespace aerie::http {

namespace {

constexpr std::array<std::string_view, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's
// algorithms): no dependence on the time zone or on timegm(), which is not standard.
constexpr std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

constexpr Civil civilFromDays(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

constexpr bool isLeap(std::int64_t y) noexcept {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

constexpr unsigned daysInMonth(std::int64_t y, unsigned m) noexcept {
  constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && isLeap(y) ? 29 : kDays[m - 1];
}

void put2(char* out, unsigned value) noexcept {
  out[0] = static_cast<char>('0' + value / 10 % 10);
  out[1] = static_cast<char>('0' + value % 10);
}

// Writes exactly 29 characters. Years outside 0..9999 cannot be written in the format;
// they are clamped, which no real clock reaches.
void formatInto(char* out, std::time_t time) noexcept {
  constexpr std::int64_t kMin = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr std::int64_t kMax = 253402300799;  // 9999-12-31T23:59:59Z
  auto t = static_cast<std::int64_t>(time);
  t = t < kMin ? kMin : (t > kMax ? kMax : t);
  std::int64_t days = t / 86400;
  std::int64_t seconds = t % 86400;
  if (seconds < 0) {
    seconds += 86400;
    days -= 1;
  }
  const Civil date = civilFromDays(days);
  const auto weekday = static_cast<std::size_t>(((days % 7) + 11) % 7);  // 1970-01-01: Thu
  const auto year = static_cast<unsigned>(date.year);
  const auto secs = static_cast<unsigned>(seconds);
  const std::string_view wd = kWeekdays[weekday];
  const std::string_view mon = kMonths[date.month - 1];
  out[0] = wd[0], out[1] = wd[1], out[2] = wd[2], out[3] = ',', out[4] = ' ';
  put2(out + 5, date.day);
  out[7] = ' ', out[8] = mon[0], out[9] = mon[1], out[10] = mon[2], out[11] = ' ';
  put2(out + 12, year / 100);
  put2(out + 14, year % 100);
  out[16] = ' ';
  put2(out + 17, secs / 3600);
  out[19] = ':';
  put2(out + 20, secs / 60 % 60);
  out[22] = ':';
  put2(out + 23, secs % 60);
  out[25] = ' ', out[26] = 'G', out[27] = 'M', out[28] = 'T';
}

bool parseDigits(std::string_view text, std::size_t pos, std::size_t count, unsigned& value) {
  value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
  }
  return true;
}

}  // namespace

bool writeResponseHead(std::string& out, int status, const Headers& headers) {
  return writeResponseHead(out, status, headers, ServerFields{});
}

namespace {

// Whether the server's fields replace an application field called `name`.
bool replacedByServer(std::string_view name, const ServerFields& server) noexcept {
  switch (name.size()) {
    case 4:
      return !server.date.empty() && iequals(name, "date");
    case 10:
      return !server.connection.empty() && iequals(name, "connection");
    case 14:
      return server.contentLength.has_value() && iequals(name, "content-length");
    case 17:
      return server.chunked && iequals(name, "transfer-encoding");
    default:
      return false;
  }
}

// Copies `text` to `at` and returns the end.
char* put(char* at, std::string_view text) noexcept {
  // (An empty view may have no data at all: memcpy must not see its null pointer.)
  if (!text.empty()) std::memcpy(at, text.data(), text.size());
  return at + text.size();
}

char* putField(char* at, std::string_view name, std::string_view value) noexcept {
  at = put(at, name);
  *at++ = ':';
  *at++ = ' ';
  at = put(at, value);
  *at++ = '\r';
  *at++ = '\n';
  return at;
}

}  // namespace

bool writeResponseHead(std::string& out, int status, const Headers& headers,
                       const ServerFields& server) {
  if (status < 100 || status > 999) return false;
  // Measure first (validating the application's fields), then write through a pointer
  // into storage sized once: a head is one resize and a run of memcpy.
  const std::string_view reason = reasonPhrase(status);
  std::size_t size = 9 + 3 + 1 + reason.size() + 2 + 2;  // "HTTP/1.1 NNN reason\r\n" "\r\n"
  for (const HeaderField& field : headers) {
    if (!isValidFieldName(field.name) || !isValidFieldValue(field.value)) return false;
    size += field.name.size() + field.value.size() + 4;
  }
  char length[24];
  std::size_t lengthSize = 0;
  if (server.contentLength) {
    lengthSize = static_cast<std::size_t>(
        std::to_chars(length, length + sizeof length, *server.contentLength).ptr - length);
    size += 14 + 4 + lengthSize;
  }
  if (!server.date.empty()) size += 4 + 4 + server.date.size();
  if (!server.server.empty()) size += 6 + 4 + server.server.size();
  if (!server.contentType.empty()) size += 12 + 4 + server.contentType.size();
  if (server.chunked) size += 17 + 4 + 7;
  if (!server.connection.empty()) size += 10 + 4 + server.connection.size();

  const std::size_t offset = out.size();
  out.resize(offset + size);  // an upper bound: replaced fields are not written
  char* at = out.data() + offset;
  at = put(at, "HTTP/1.1 ");
  *at++ = static_cast<char>('0' + status / 100);
  *at++ = static_cast<char>('0' + status / 10 % 10);
  *at++ = static_cast<char>('0' + status % 10);
  *at++ = ' ';
  at = put(at, reason);
  *at++ = '\r';
  *at++ = '\n';
  for (const HeaderField& field : headers) {
    if (replacedByServer(field.name, server)) continue;
    at = putField(at, field.name, field.value);
  }
  if (!server.date.empty()) at = putField(at, "Date", server.date);
  if (!server.server.empty()) at = putField(at, "Server", server.server);
  if (!server.contentType.empty()) at = putField(at, "Content-Type", server.contentType);
  if (server.contentLength) at = putField(at, "Content-Length", {length, lengthSize});
  if (server.chunked) at = putField(at, "Transfer-Encoding", "chunked");
  if (!server.connection.empty()) at = putField(at, "Connection", server.connection);
  *at++ = '\r';
  *at++ = '\n';
  out.resize(static_cast<std::size_t>(at - out.data()));
  return true;
}

std::string formatHttpDate(std::time_t time) {
  std::string text(29, ' ');
  formatInto(text.data(), time);
  return text;
}

namespace {

constexpr std::array<std::string_view, 7> kLongWeekdays = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

/// 1..12 for "Jan".."Dec" at text[pos], 0 otherwise.
unsigned monthAt(std::string_view text, std::size_t pos) {
  for (unsigned m = 0; m < 12; ++m) {
    if (text.substr(pos, 3) == kMonths[m]) return m + 1;
  }
  return 0;
}

/// "08:49:37" at text[pos].
bool timeOfDayAt(std::string_view text, std::size_t pos, unsigned& hour, unsigned& minute,
                 unsigned& second) {
  return text[pos + 2] == ':' && text[pos + 5] == ':' && parseDigits(text, pos, 2, hour) &&
         parseDigits(text, pos + 3, 2, minute) && parseDigits(text, pos + 6, 2, second);
}

std::optional<std::time_t> toTime(std::int64_t year, unsigned month, unsigned day, unsigned hour,
                                  unsigned minute, unsigned second) {
  // second 60 is a leap second (RFC 5322 allows it); it reads as the next second.
  if (month == 0 || day == 0 || day > daysInMonth(year, month) || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  const std::int64_t days = daysFromCivil(year, month, day);
  const std::int64_t t =
      days * 86400 + std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 + second;
  if constexpr (sizeof(std::time_t) < 8) {
    if (t > INT32_MAX || t < INT32_MIN) return std::nullopt;
  }
  return static_cast<std::time_t>(t);
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
//  0123456789012345678901234567 8
std::optional<std::time_t> parseImfFixdate(std::string_view text) {
  if (text.size() != 29) return std::nullopt;
  if (std::find(kWeekdays.begin(), kWeekdays.end(), text.substr(0, 3)) == kWeekdays.end() ||
      text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' || text[16] != ' ' ||
      text.substr(25) != " GMT") {
    return std::nullopt;
  }
  unsigned day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!parseDigits(text, 5, 2, day) || !parseDigits(text, 12, 4, year) ||
      !timeOfDayAt(text, 17, hour, minute, second)) {
    return std::nullopt;
  }
  return toTime(year, monthAt(text, 8), day, hour, minute, second);
}

// "Sunday, 06-Nov-94 08:49:37 GMT": the weekday in full, a two-digit year.
std::optional<std::time_t> parseRfc850Date(std::string_view text, std::time_t now) {
  const std::size_t comma = text.find(',');
  if (comma == std::string_view::npos || std::find(kLongWeekdays.begin(), kLongWeekdays.end(),
                                                   text.substr(0, comma)) == kLongWeekdays.end()) {
    return std::nullopt;
  }
  const std::string_view rest = text.substr(comma);
  // ", 06-Nov-94 08:49:37 GMT"
  //  012345678901234567890123
  if (rest.size() != 24 || rest[1] != ' ' || rest[4] != '-' || rest[8] != '-' || rest[11] != ' ' ||
      rest.substr(20) != " GMT") {
    return std::nullopt;
  }
  unsigned day = 0, yy = 0, hour = 0, minute = 0, second = 0;
  if (!parseDigits(rest, 2, 2, day) || !parseDigits(rest, 9, 2, yy) ||
      !timeOfDayAt(rest, 12, hour, minute, second)) {
    return std::nullopt;
  }
  // RFC 9110 5.6.7: a two-digit year more than 50 years in the future is the most recent
  // year in the past with those digits.
  const std::int64_t currentYear = civilFromDays(static_cast<std::int64_t>(now) / 86400).year;
  std::int64_t year = currentYear - currentYear % 100 + yy;
  if (year > currentYear + 50) year -= 100;
  return toTime(year, monthAt(rest, 5), day, hour, minute, second);
}

// "Sun Nov  6 08:49:37 1994" (C's asctime(); the day padded with a space).
//  012345678901234567890123
std::optional<std::time_t> parseAsctimeDate(std::string_view text) {
  if (text.size() != 24 ||
      std::find(kWeekdays.begin(), kWeekdays.end(), text.substr(0, 3)) == kWeekdays.end() ||
      text[3] != ' ' || text[7] != ' ' || text[10] != ' ' || text[19] != ' ') {
    return std::nullopt;
  }
  unsigned day = 0, year = 0, hour = 0, minute = 0, second = 0;
  const bool dayOk = text[8] == ' ' ? parseDigits(text, 9, 1, day) : parseDigits(text, 8, 2, day);
  if (!dayOk || !parseDigits(text, 20, 4, year) || !timeOfDayAt(text, 11, hour, minute, second)) {
    return std::nullopt;
  }
  return toTime(year, monthAt(text, 4), day, hour, minute, second);
}

}  // namespace

std::optional<std::time_t> parseHttpDate(std::string_view text, std::time_t now) {
  if (auto t = parseImfFixdate(text)) return t;
  if (auto t = parseRfc850Date(text, now)) return t;
  return parseAsctimeDate(text);
}

std::string_view DateCache::now() {
  return at(std::time(nullptr));
}

std::string_view DateCache::at(std::time_t time) {
  if (time != cachedTime_) {
    formatInto(text_, time);
    cachedTime_ = time;
  }
  return {text_, sizeof text_};
}

}  // namespace aerie::http
