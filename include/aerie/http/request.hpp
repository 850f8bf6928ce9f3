// A request as responders see it (seed: Aerys\Request).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aerie/core/task.hpp"
#include "aerie/http/headers.hpp"
#include "aerie/http/request_head.hpp"

namespace aerie::http {

class Request {
 public:
  Request(RequestHead head, std::string path, std::string query, std::string remoteAddress);

  std::string_view method() const noexcept { return head_.method; }
  /// The request target as sent ("/chat?room=1").
  std::string_view target() const noexcept { return head_.target; }
  /// The path, percent-decoded once.
  std::string_view path() const noexcept { return path_; }
  /// The raw query string (after '?', not decoded).
  std::string_view query() const noexcept { return query_; }
  /// A query parameter, decoded; empty if absent.
  std::string queryParam(std::string_view name) const;
  int versionMajor() const noexcept { return head_.versionMajor; }
  int versionMinor() const noexcept { return head_.versionMinor; }

  /// The first value of a header (case-insensitive name); empty if absent.
  std::string_view header(std::string_view name) const noexcept;
  /// Every value of a repeated header.
  std::vector<std::string_view> headerArray(std::string_view name) const;
  const Headers& headers() const noexcept { return head_.headers; }
  /// A cookie's value from the Cookie header(s); empty if absent.
  std::string_view cookie(std::string_view name) const noexcept;

  /// A route parameter ("/user/{id}" -> param("id")); empty if absent.
  std::string_view param(std::string_view name) const noexcept;
  const std::vector<std::pair<std::string, std::string>>& params() const noexcept {
    return params_;
  }

  /// "127.0.0.1:54321", "[::1]:54321" or the Unix socket path.
  std::string_view remoteAddress() const noexcept { return remoteAddress_; }

  /// The request body (the server reads it, within maxBodySize, before the responder runs).
  Task<std::string> body();

  // Server internals.
  const RequestHead& head() const noexcept { return head_; }
  void setParams(std::vector<std::pair<std::string, std::string>> params) {
    params_ = std::move(params);
  }
  void setBody(std::string body) { body_ = std::move(body); }

 private:
  RequestHead head_;
  std::string path_;
  std::string query_;
  std::string remoteAddress_;
  std::string body_;
  std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace aerie::http
