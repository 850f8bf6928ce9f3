#include "aerie/http/response.hpp"

#include <unistd.h>

#include <stdexcept>
#include <string>

namespace aerie::http {

OpenFile::~OpenFile() {
  ::close(fd_);
}

void Response::reset() noexcept {
  // Larger buffers than a typical response needs are not kept for the next one.
  constexpr std::size_t kKeptCapacity = 4096;
  status_ = 200;
  started_ = false;
  if (headers_.storedBytes() > kKeptCapacity) {
    headers_ = Headers();
  } else {
    headers_.clear();
  }
  if (body_.capacity() > kKeptCapacity) {
    std::string().swap(body_);
  } else {
    body_.clear();
  }
  fileBody_ = FileBody{};
  upgrade_.reset();
  deadline_ = {};
  sink_ = nullptr;
  streaming_ = false;
  ended_ = false;
}

void Response::setCookie(std::string_view name, std::string_view value,
                         std::string_view attributes) {
  std::string cookie;
  cookie.reserve(name.size() + value.size() + attributes.size() + 3);
  cookie.append(name).append("=").append(value);
  if (!attributes.empty()) cookie.append("; ").append(attributes);
  headers_.add("Set-Cookie", cookie);
}

Task<> Response::write(std::string chunk) {
  if (ended_) throw std::logic_error("Response::write() after end()");
  started_ = true;
  streaming_ = true;
  if (sink_ == nullptr) {
    body_ += chunk;
    co_return;
  }
  co_await sink_->writeBody(*this, std::move(chunk), false);
}

Task<> Response::end(std::string lastChunk) {
  if (ended_) throw std::logic_error("Response::end() called twice");
  started_ = true;
  streaming_ = true;
  ended_ = true;
  if (sink_ == nullptr) {
    body_ += lastChunk;
    co_return;
  }
  co_await sink_->writeBody(*this, std::move(lastChunk), true);
}

}  // namespace aerie::http
