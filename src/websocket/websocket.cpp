#include "aerie/websocket/websocket.hpp"

#include "websocket/app.hpp"

namespace aerie {

websocket::websocket(std::shared_ptr<Handler> handler, Options options)
    : app_(std::make_shared<detail::WebsocketApp>(std::move(handler), options)) {}

websocket::operator Responder() const {
  auto app = std::static_pointer_cast<detail::WebsocketApp>(app_);
  Responder::Function function = [app](http::Request& request, http::Response& response) {
    return app->respond(request, response);
  };
  return Responder(std::move(function), {app});
}

}  // namespace aerie
