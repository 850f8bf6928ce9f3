// A response as responders build it (seed: Aerys\Response).
//
// A responder "starts" the response by calling send() or by setting a status (as the
// websocket responder does with 101 or a handshake denial); the first responder of a
// Host that starts the response wins and later ones are skipped (seed 002's note).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "aerie/core/task.hpp"
#include "aerie/http/headers.hpp"

namespace aerie::http {

/// Takes over a connection after a 101 response (the websocket responder installs one).
class Upgrade {
 public:
  virtual ~Upgrade() = default;
};

class Response {
 public:
  int status() const noexcept { return status_; }
  void setStatus(int status) noexcept {
    status_ = status;
    started_ = true;
  }
  Headers& headers() noexcept { return headers_; }
  const Headers& headers() const noexcept { return headers_; }
  void setHeader(std::string_view name, std::string_view value) { headers_.set(name, value); }
  void addHeader(std::string_view name, std::string_view value) { headers_.add(name, value); }
  /// Set-Cookie with attributes, e.g. setCookie("sid", "abc", "Path=/; HttpOnly").
  void setCookie(std::string_view name, std::string_view value, std::string_view attributes = {});

  /// Sends the whole response with this body (Content-Length is set).
  Task<> send(std::string body) {
    body_ = std::move(body);
    started_ = true;
    co_return;
  }

  /// True once a responder started this response.
  bool started() const noexcept { return started_; }
  const std::string& body() const noexcept { return body_; }
  std::string& body() noexcept { return body_; }

  /// The server answers 503 and closes if the response is not ready by then (the
  /// websocket responder bounds onHandshake with it). Default: no deadline.
  void setDeadline(std::chrono::steady_clock::time_point deadline) noexcept {
    deadline_ = deadline;
  }
  std::chrono::steady_clock::time_point deadline() const noexcept { return deadline_; }

  void setUpgrade(std::shared_ptr<Upgrade> upgrade) { upgrade_ = std::move(upgrade); }
  const std::shared_ptr<Upgrade>& upgrade() const noexcept { return upgrade_; }

 private:
  int status_ = 200;
  bool started_ = false;
  Headers headers_;
  std::string body_;
  std::shared_ptr<Upgrade> upgrade_;
  std::chrono::steady_clock::time_point deadline_{};
};

}  // namespace aerie::http
