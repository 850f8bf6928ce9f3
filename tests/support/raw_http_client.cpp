#include "support/raw_http_client.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace aerie::test {

int RawHttpResponse::count(const std::string& name) const {
  int n = 0;
  const std::string needle = "\r\n" + name + ":";
  for (std::size_t at = head.find(needle); at != std::string::npos;
       at = head.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

RawHttpClient::RawHttpClient(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  timeval timeout{20, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

RawHttpClient::~RawHttpClient() {
  ::close(fd_);
}

void RawHttpClient::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << "send failed: " << errno;
    sent += static_cast<std::size_t>(n);
  }
}

RawHttpResponse RawHttpClient::read(bool head) {
  RawHttpResponse response;
  std::size_t end = 0;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return response;
  }
  response.head = buffer_.substr(0, end + 2);
  buffer_.erase(0, end + 4);
  response.status = std::stoi(response.head.substr(9, 3));
  if (response.status < 200 || head) return response;
  const std::size_t lengthAt = response.head.find("Content-Length: ");
  if (lengthAt != std::string::npos) {
    const std::size_t length = std::stoul(response.head.substr(lengthAt + 16));
    while (buffer_.size() < length) {
      if (!fill()) return {};
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
  } else if (response.has("Transfer-Encoding: chunked")) {
    while (true) {
      std::size_t line = 0;
      while ((line = buffer_.find("\r\n")) == std::string::npos) {
        if (!fill()) return {};
      }
      const std::size_t size = std::stoul(buffer_.substr(0, line), nullptr, 16);
      while (buffer_.size() < line + 2 + size + 2) {
        if (!fill()) return {};
      }
      response.body += buffer_.substr(line + 2, size);
      buffer_.erase(0, line + 2 + size + 2);
      if (size == 0) break;
    }
  }
  return response;
}

bool RawHttpClient::closedByServer() {
  if (!buffer_.empty()) return false;
  return !fill();
}

bool RawHttpClient::fill() {
  char chunk[65536];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

}  // namespace aerie::test
