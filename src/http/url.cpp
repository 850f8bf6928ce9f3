#include "aerie/http/url.hpp"

#include "char_class.hpp"

namespace aerie::http {

bool percentDecodeInto(std::string& out, std::string_view input, bool plusAsSpace) {
  out.clear();
  out.reserve(input.size());
  for (std::size_t i = 0; i < input.size(); ++i) {
    char c = input[i];
    if (c == '%') {
      if (input.size() - i < 3) return false;
      const int high = detail::hexValue(input[i + 1]);
      const int low = detail::hexValue(input[i + 2]);
      if (high < 0 || low < 0) return false;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    } else if (c == '+' && plusAsSpace) {
      c = ' ';
    }
    if (c == '\0') return false;
    out.push_back(c);
  }
  return true;
}

std::optional<std::string> percentDecode(std::string_view input, bool plusAsSpace) {
  std::string out;
  if (!percentDecodeInto(out, input, plusAsSpace)) return std::nullopt;
  return out;
}

std::optional<TargetView> splitTargetView(std::string_view target) noexcept {
  if (target == "*") return TargetView{target, {}};
  std::string_view rest = target;
  if (target.empty() || target.front() != '/') {
    const std::size_t scheme = target.find("://");
    if (scheme == std::string_view::npos || scheme == 0) return std::nullopt;
    rest = target.substr(scheme + 3);
    const std::size_t pathStart = rest.find_first_of("/?#");
    rest = pathStart == std::string_view::npos ? std::string_view{} : rest.substr(pathStart);
  }
  const std::size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  const std::size_t question = rest.find('?');
  TargetView result;
  result.path = rest.substr(0, question);
  if (question != std::string_view::npos) result.query = rest.substr(question + 1);
  return result;
}

std::optional<Target> splitTarget(std::string_view target) {
  const std::optional<TargetView> view = splitTargetView(target);
  if (!view) return std::nullopt;
  Target result{std::string(view->path.empty() ? "/" : view->path), std::string(view->query)};
  return result;
}

std::optional<std::string> normalizePath(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  if (path.find('\0') != std::string_view::npos) return std::nullopt;
  std::string out;  // "/a/b" form, "" meaning the root
  out.reserve(path.size());
  bool endsAsDirectory = false;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (out.empty()) return std::nullopt;  // would climb above the root
      out.resize(out.rfind('/'));
      endsAsDirectory = true;
    } else if (segment.empty() || segment == ".") {
      endsAsDirectory = true;
    } else {
      out += '/';
      out += segment;
      endsAsDirectory = false;
    }
    start = end + 1;
  }
  if (out.empty() || endsAsDirectory) out += '/';
  return out;
}

std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view element = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (element.empty()) continue;
    const std::size_t eq = element.find('=');
    auto name = percentDecode(element.substr(0, eq), true);
    auto value = percentDecode(
        eq == std::string_view::npos ? std::string_view{} : element.substr(eq + 1), true);
    if (!name || !value) continue;
    pairs.emplace_back(std::move(*name), std::move(*value));
  }
  return pairs;
}

}  // namespace aerie::http
