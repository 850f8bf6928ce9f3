// Routes requests by method and path, with path parameters ("/user/{id}").
// No matching path: the router does not start a response, so the next responder of the
// Host (e.g. root()) gets the request, and 404 follows if none answers. A matching path
// with another method: 405 with Allow.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "aerie/server/responder.hpp"

namespace aerie {

class Router {
 public:
  Router& route(std::string_view method, std::string_view path, Responder responder);
  Router& get(std::string_view path, Responder r) { return route("GET", path, std::move(r)); }
  Router& post(std::string_view path, Responder r) { return route("POST", path, std::move(r)); }
  Router& put(std::string_view path, Responder r) { return route("PUT", path, std::move(r)); }
  Router& patch(std::string_view path, Responder r) { return route("PATCH", path, std::move(r)); }
  Router& delete_(std::string_view path, Responder r) {
    return route("DELETE", path, std::move(r));
  }

  /// The router as a responder (what Host::use() takes).
  operator Responder() const;  // NOLINT: implicit on purpose, as in host.use(router)

  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" marks a parameter
    Responder responder;
  };

 private:
  std::vector<Route> routes_;
};

}  // namespace aerie
