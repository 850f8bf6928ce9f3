#include "aerie/http/request_head.hpp"

namespace aerie::http {

bool RequestHead::keepAlive() const noexcept {
  if (headers.hasToken("connection", "close")) return false;
  if (versionMajor == 1 && versionMinor == 0) return headers.hasToken("connection", "keep-alive");
  return true;
}

void RequestHead::clear() noexcept {
  method.clear();
  target.clear();
  versionMajor = 1;
  versionMinor = 1;
  headers.clear();
}

}  // namespace aerie::http
