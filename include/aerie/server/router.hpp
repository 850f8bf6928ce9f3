// Routes requests by method and path, with path parameters ("/user/{id}").
// No matching path: the router does not start a response, so the next responder of the
// Host (e.g. root()) gets the request, and 404 follows if none answers. A matching path
// with another method: 405 with Allow.
//
// A matched route applies its request body limit (RouteOptions::maxBodySize, else
// ServerOptions::maxBodySize) and answers 413 itself, without running the responder or
// reading the body, when the declared Content-Length exceeds it:
//
//   RouteOptions uploads;
//   uploads.maxBodySize = 64 * 1024 * 1024;
//   router.put("/files/{name}", storeFile, uploads);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aerie/server/responder.hpp"

namespace aerie {

/// Per-route settings (a class with a constructor, not an aggregate: see
/// docs/architecture.md on GCC 12).
class RouteOptions {
 public:
  RouteOptions() noexcept {}
  /// Largest request body for this route (bytes); unset: ServerOptions::maxBodySize.
  std::optional<std::uint64_t> maxBodySize;
};

class Router {
 public:
  Router& route(std::string_view method, std::string_view path, Responder responder,
                RouteOptions options = RouteOptions());
  Router& get(std::string_view path, Responder r, RouteOptions o = RouteOptions()) {
    return route("GET", path, std::move(r), std::move(o));
  }
  Router& post(std::string_view path, Responder r, RouteOptions o = RouteOptions()) {
    return route("POST", path, std::move(r), std::move(o));
  }
  Router& put(std::string_view path, Responder r, RouteOptions o = RouteOptions()) {
    return route("PUT", path, std::move(r), std::move(o));
  }
  Router& patch(std::string_view path, Responder r, RouteOptions o = RouteOptions()) {
    return route("PATCH", path, std::move(r), std::move(o));
  }
  Router& delete_(std::string_view path, Responder r, RouteOptions o = RouteOptions()) {
    return route("DELETE", path, std::move(r), std::move(o));
  }

  /// The router as a responder (what Host::use() takes).
  operator Responder() const;  // NOLINT: implicit on purpose, as in host.use(router)

  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" marks a parameter
    Responder responder;
    RouteOptions options;
  };

 private:
  std::vector<Route> routes_;
};

}  // namespace aerie
