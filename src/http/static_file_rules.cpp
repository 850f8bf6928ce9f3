#include "aerie/http/static_file_rules.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace aerie::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}

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
    const std::string_view element = trim(list.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

RangeRequest parseRange(std::string_view header, std::uint64_t size) {
  RangeRequest result;
  header = trim(header);
  constexpr std::string_view kUnit = "bytes=";
  if (header.size() <= kUnit.size() || !iequal(header.substr(0, kUnit.size()), kUnit)) {
    return result;
  }
  const std::string_view spec = trim(header.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return result;  // several: the whole file
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return result;
  const std::string_view firstText = trim(spec.substr(0, dash));
  const std::string_view lastText = trim(spec.substr(dash + 1));
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
    const std::string_view name = trim(element.substr(0, semicolon));
    bool acceptable = true;
    if (semicolon != std::string_view::npos) {
      std::string_view params = element.substr(semicolon + 1);
      const std::size_t q = params.find("q=");
      if (q != std::string_view::npos) {
        std::string_view value = trim(params.substr(q + 2));
        const std::size_t end = value.find(';');
        value = trim(value.substr(0, end));
        // q=0, q=0.0, q=0.000: refused; anything else with a non-zero digit: accepted.
        acceptable = value.find_first_of("123456789") != std::string_view::npos;
      }
    }
    if (iequal(name, coding)) explicitly = acceptable;
    if (name == "*") wildcard = acceptable;
  });
  return explicitly.has_value() ? *explicitly : wildcard;
}

}  // namespace aerie::http
