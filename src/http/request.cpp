#include "aerie/http/request.hpp"

#include "aerie/http/url.hpp"

namespace aerie::http {

namespace {
constexpr std::size_t kKeptBodyCapacity = 4096;
}  // namespace

Request::Request(RequestHead head, std::string path, std::string query, std::string remoteAddress)
    : head_(std::move(head)),
      path_(std::move(path)),
      query_(std::move(query)),
      remoteAddress_(std::move(remoteAddress)) {}

void Request::prepare(std::string_view remoteAddress) {
  if (const std::optional<TargetView> target = splitTargetView(head_.target)) {
    const std::string_view path = target->path.empty() ? std::string_view("/") : target->path;
    if (path.find('%') == std::string_view::npos) {
      path_.assign(path);  // nothing to decode (the parser admits no raw NUL)
    } else if (!percentDecodeInto(path_, path)) {
      path_.assign(path);
    }
    query_.assign(target->query);
  } else {
    path_.assign(head_.target);
    query_.clear();
  }
  if (remoteAddress_ != remoteAddress) remoteAddress_.assign(remoteAddress);
  recycle();
}

void Request::recycle() noexcept {
  if (body_.capacity() > kKeptBodyCapacity) {
    std::string().swap(body_);
  } else {
    body_.clear();
  }
  bodyTaken_ = false;
  source_ = nullptr;
  contentLength_.reset();
  maxBodySize_ = std::uint64_t{128} * 1024;
  params_.clear();
}

std::string Request::queryParam(std::string_view name) const {
  for (auto& [key, value] : parseQuery(query_)) {
    if (key == name) return value;
  }
  return {};
}

std::string_view Request::header(std::string_view name) const noexcept {
  return head_.headers.get(name).value_or(std::string_view{});
}

std::vector<std::string_view> Request::headerArray(std::string_view name) const {
  return head_.headers.getAll(name);
}

std::string_view Request::cookie(std::string_view name) const noexcept {
  for (const auto& field : head_.headers) {
    if (!iequals(field.name, "cookie")) continue;
    std::string_view rest = field.value;
    while (!rest.empty()) {
      const std::size_t end = rest.find(';');
      std::string_view pair = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
      while (!pair.empty() && pair.front() == ' ')
        pair.remove_prefix(1);
      const std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
      std::string_view value = pair.substr(eq + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return value;
    }
  }
  return {};
}

std::string_view Request::param(std::string_view name) const noexcept {
  for (const auto& [key, value] : params_) {
    if (key == name) return value;
  }
  return {};
}

Task<std::string> Request::body() {
  std::string all;
  while (true) {
    std::optional<std::string> chunk = co_await read();
    if (!chunk) break;
    if (all.empty()) {
      all = std::move(*chunk);
    } else {
      all.append(*chunk);
    }
  }
  co_return all;
}

Task<std::optional<std::string>> Request::read() {
  if (source_ != nullptr) {
    std::optional<std::string> chunk = co_await source_->readBody();
    co_return chunk;
  }
  if (bodyTaken_ || body_.empty()) co_return std::nullopt;
  bodyTaken_ = true;
  std::optional<std::string> all(std::move(body_));
  body_.clear();
  co_return all;
}

void Request::setMaxBodySize(std::uint64_t maxBodySize) {
  maxBodySize_ = maxBodySize;
  if (source_ != nullptr) source_->bodyLimitChanged(maxBodySize);
}

}  // namespace aerie::http
