#include "aerie/http/response.hpp"

#include <string>

namespace aerie::http {

void Response::setCookie(std::string_view name, std::string_view value,
                         std::string_view attributes) {
  std::string cookie;
  cookie.reserve(name.size() + value.size() + attributes.size() + 3);
  cookie.append(name).append("=").append(value);
  if (!attributes.empty()) cookie.append("; ").append(attributes);
  headers_.add("Set-Cookie", cookie);
}

}  // namespace aerie::http
