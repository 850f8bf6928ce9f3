// The server side of http::Upgrade: after a 101 head is written, takes the connection over.
#pragma once

#include <string>

#include "aerie/http/response.hpp"

namespace aerie::detail {

class Connection;

class ConnectionUpgrade : public http::Upgrade {
 public:
  /// `pendingBytes`: what the client sent after the request (e.g. its first frames).
  /// Replaces the connection's session; the HTTP session is destroyed by this call.
  virtual void takeOver(Connection& connection, std::string pendingBytes) = 0;
};

}  // namespace aerie::detail
