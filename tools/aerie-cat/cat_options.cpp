#include "cat_options.hpp"

namespace aerie::cat {
namespace {

bool isTokenChar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view trimBlanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> parseHeader(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view name = trimBlanks(spec.substr(0, colon));
  const std::string_view value = trimBlanks(spec.substr(colon + 1));
  if (name.empty()) return std::nullopt;
  for (const char c : name) {
    if (!isTokenChar(c)) return std::nullopt;
  }
  // A CR or LF would let the value smuggle more headers into the request.
  if (value.find_first_of("\r\n") != std::string_view::npos) return std::nullopt;
  return std::make_pair(std::string(name), std::string(value));
}

}  // namespace aerie::cat
