// Middlewares wrap a responder: code before and after it (add headers, time requests,
// refuse by origin) without touching the responder itself.
//
//   Responder api = wrap(router, [](http::Request& req, http::Response& res,
//                                   const Responder& next) -> Task<> {
//     if (req.header("origin") == "https://evil.example") {
//       res.setStatus(403);
//       co_return;                        // next never runs
//     }
//     co_await next(req, res);            // the wrapped responder
//     res.setHeader("X-Frame-Options", "DENY");  // before the response is written
//   });
//
// A middleware runs before the response is written (unless the responder streamed it with
// write(): then the head went out with the first chunk and later header changes are lost).
#pragma once

#include <functional>
#include <utility>

#include "aerie/server/responder.hpp"

namespace aerie {

using Middleware =
    std::function<Task<>(http::Request& request, http::Response& response, const Responder& next)>;

/// `responder` wrapped by `middleware` (observers such as websocket applications are kept).
inline Responder wrap(Responder responder, Middleware middleware) {
  auto observers = responder.observers();
  return Responder(
      [responder = std::move(responder), middleware = std::move(middleware)](
          http::Request& request, http::Response& response) -> Task<> {
        co_await middleware(request, response, responder);
      },
      std::move(observers));
}

/// wrap() with several middlewares, outermost first: wrap(r, a, b) runs a, then b, then r.
template <class... More>
Responder wrap(Responder responder, Middleware first, Middleware second, More... more) {
  return wrap(wrap(std::move(responder), std::move(second), std::move(more)...), std::move(first));
}

}  // namespace aerie
