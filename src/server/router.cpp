#include "aerie/server/router.hpp"

#include <memory>
#include <string>

#include "aerie/http/url.hpp"

namespace aerie {
namespace {

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  if (!path.empty() && path.front() == '/') start = 1;
  while (start <= path.size()) {
    const std::size_t end = path.find('/', start);
    const std::size_t stop = end == std::string_view::npos ? path.size() : end;
    segments.emplace_back(path.substr(start, stop - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return segments;
}

bool isParameter(const std::string& segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

/// Matches `path` against a route; fills route parameters on success. Walks the path's
/// segments in place: no per-request allocation unless the route has parameters.
bool matches(const Router::Route& route, std::string_view path,
             std::vector<std::pair<std::string, std::string>>& params) {
  params.clear();
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::size_t index = 0;
  while (true) {
    const std::size_t slash = path.find('/');
    const std::string_view segment = path.substr(0, slash);
    if (index == route.segments.size()) return false;
    const std::string& pattern = route.segments[index++];
    if (isParameter(pattern)) {
      if (segment.empty()) return false;
      params.emplace_back(pattern.substr(1, pattern.size() - 2), segment);
    } else if (pattern != segment) {
      return false;
    }
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return index == route.segments.size();
}

}  // namespace

Router& Router::route(std::string_view method, std::string_view path, Responder responder,
                      RouteOptions options) {
  routes_.push_back(
      Route{std::string(method), splitPath(path), std::move(responder), std::move(options)});
  return *this;
}

Router::operator Responder() const {
  auto routes = std::make_shared<const std::vector<Route>>(routes_);
  std::vector<std::shared_ptr<ServerObserver>> observers;
  for (const Route& route : routes_) {
    for (const auto& observer : route.responder.observers())
      observers.push_back(observer);
  }
  Responder::Function function = [routes](http::Request& request,
                                          http::Response& response) -> Task<> {
    const std::string_view path = request.path();
    std::vector<std::pair<std::string, std::string>> params;
    std::string allow;
    for (const Route& route : *routes) {
      if (!matches(route, path, params)) continue;
      const bool methodMatches =
          route.method == request.method() || (route.method == "GET" && request.method() == "HEAD");
      if (methodMatches) {
        request.setParams(std::move(params));
        if (route.options.maxBodySize) request.setMaxBodySize(*route.options.maxBodySize);
        if (request.bodyTooLarge()) {
          // Known now that the route is: answered without reading the body (nor sending
          // 100 Continue); the server closes the connection after it.
          response.setStatus(413);
          co_await response.send("Payload Too Large\n");
          co_return;
        }
        co_await route.responder(request, response);
        co_return;
      }
      if (allow.find(route.method) == std::string::npos) {
        if (!allow.empty()) allow += ", ";
        allow += route.method;
      }
    }
    if (!allow.empty()) {
      response.setStatus(405);
      response.setHeader("Allow", allow);
      co_await response.send("Method Not Allowed\n");
    }
    // No route for this path: leave the response unstarted for the next responder.
  };
  return Responder(std::move(function), std::move(observers));
}

}  // namespace aerie
