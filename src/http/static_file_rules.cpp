#include "aerie/http/static_file_rules.hpp"

#include <algorithm>
#include <cstring>

#include "aerie/http/headers.hpp"
#include "aerie/protocol/header_values.hpp"

namespace aerie::http {
namespace {

using protocol::trimOws;

/// Digits only (no sign, no blanks), at most 19 of them.
std::optional<std::uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

/// Splits on commas, calling f(element) for each trimmed, non-empty element.
template <class F>
void forEachElement(std::string_view list, F f) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trimOws(list.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

RangeRequest parseRange(std::string_view header, std::uint64_t size) {
  RangeRequest result;
  header = trimOws(header);
  constexpr std::string_view kUnit = "bytes=";
  if (header.size() <= kUnit.size() || !iequals(header.substr(0, kUnit.size()), kUnit)) {
    return result;
  }
  const std::string_view spec = trimOws(header.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return result;  // several: the whole file
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return result;
  const std::string_view firstText = trimOws(spec.substr(0, dash));
  const std::string_view lastText = trimOws(spec.substr(dash + 1));
  if (firstText.empty()) {  // suffix: the last N bytes
    const auto suffix = number(lastText);
    if (!suffix) return result;
    if (*suffix == 0 || size == 0) {
      result.kind = RangeRequest::Kind::Unsatisfiable;
      return result;
    }
    const std::uint64_t n = std::min(*suffix, size);
    result.kind = RangeRequest::Kind::Single;
    result.range = {size - n, size - 1};
    return result;
  }
  const auto first = number(firstText);
  if (!first) return result;
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!lastText.empty()) {
    const auto parsed = number(lastText);
    if (!parsed || *parsed < *first) return result;  // invalid: ignore the header
    last = std::min(*parsed, last);
  }
  if (*first >= size) {
    result.kind = RangeRequest::Kind::Unsatisfiable;
    return result;
  }
  result.kind = RangeRequest::Kind::Single;
  result.range = {*first, last};
  return result;
}

bool ifNoneMatchMatches(std::string_view header, std::string_view etag) {
  auto opaque = [](std::string_view tag) {
    if (tag.size() > 2 && tag[0] == 'W' && tag[1] == '/') tag.remove_prefix(2);
    return tag;
  };
  bool match = false;
  forEachElement(header, [&](std::string_view element) {
    if (element == "*" || opaque(element) == opaque(etag)) match = true;
  });
  return match;
}

bool acceptsEncoding(std::string_view acceptEncoding, std::string_view coding) {
  std::optional<bool> explicitly;
  bool wildcard = false;
  forEachElement(acceptEncoding, [&](std::string_view element) {
    const std::size_t semicolon = element.find(';');
    const std::string_view name = trimOws(element.substr(0, semicolon));
    bool acceptable = true;
    if (semicolon != std::string_view::npos) {
      std::string_view params = element.substr(semicolon + 1);
      const std::size_t q = params.find("q=");
      if (q != std::string_view::npos) {
        std::string_view value = trimOws(params.substr(q + 2));
        const std::size_t end = value.find(';');
        value = trimOws(value.substr(0, end));
        // q=0, q=0.0, q=0.000: refused; anything else with a non-zero digit: accepted.
        acceptable = value.find_first_of("123456789") != std::string_view::npos;
      }
    }
    if (iequals(name, coding)) explicitly = acceptable;
    if (name == "*") wildcard = acceptable;
  });
  return explicitly.has_value() ? *explicitly : wildcard;
}

bool isTextualType(std::string_view contentType) noexcept {
  const std::string_view type = trimOws(contentType.substr(0, contentType.find(';')));
  const auto endsWith = [type](std::string_view suffix) {
    return type.size() >= suffix.size() &&
           iequals(type.substr(type.size() - suffix.size()), suffix);
  };
  return (type.size() > 5 && iequals(type.substr(0, 5), "text/")) ||
         iequals(type, "application/json") || iequals(type, "application/javascript") ||
         iequals(type, "application/xml") || iequals(type, "image/svg+xml") || endsWith("+json") ||
         endsWith("+xml");
}

}  // namespace aerie::http
