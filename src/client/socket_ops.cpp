#include "client/socket_ops.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "aerie/client/errors.hpp"

namespace aerie::client::detail {

Deadline::Deadline(net::Loop& loop, std::chrono::milliseconds timeout)
    : state_(std::make_shared<State>(loop.io())) {
  state_->timer.expires_after(timeout);
  state_->timer.async_wait([state = state_](const std::error_code& error) {
    if (error) return;  // cancelled: the step finished in time
    state->expired = true;
    std::error_code ignored;
    if (state->socket != nullptr) state->socket->cancel(ignored);
    if (state->resolver != nullptr) state->resolver->cancel();
  });
}

Deadline::~Deadline() {
  state_->socket = nullptr;
  state_->resolver = nullptr;
  state_->timer.cancel();
}

std::vector<asio::ip::tcp::endpoint> orderEndpoints(std::vector<asio::ip::tcp::endpoint> resolved,
                                                    AddressFamily family) {
  std::vector<asio::ip::tcp::endpoint> endpoints;
  for (const auto& endpoint : resolved) {
    if (family == AddressFamily::Ipv4Only && !endpoint.address().is_v4()) continue;
    if (family == AddressFamily::Ipv6Only && !endpoint.address().is_v6()) continue;
    if (std::find(endpoints.begin(), endpoints.end(), endpoint) == endpoints.end()) {
      endpoints.push_back(endpoint);
    }
  }
  if (family == AddressFamily::PreferIpv4 || family == AddressFamily::PreferIpv6) {
    const bool v4First = family == AddressFamily::PreferIpv4;
    std::stable_partition(
        endpoints.begin(), endpoints.end(),
        [v4First](const asio::ip::tcp::endpoint& e) { return e.address().is_v4() == v4First; });
  }
  return endpoints;
}

namespace {
[[noreturn]] void fail(const Deadline& deadline, const std::string& what, const std::string& why) {
  if (deadline.expired()) throw TimeoutError(what + ": timed out");
  throw ConnectError(what + ": " + why);
}
}  // namespace

Task<> writeAll(asio::ip::tcp::socket& socket, std::string data, const Deadline& deadline,
                std::string what, net::TlsChannel* tls) {
  std::size_t done = 0;
  while (tls != nullptr && done < data.size()) {
    const net::TlsResult r = tls->write(data.data() + done, data.size() - done);
    if (r.status == net::TlsStatus::Ok) {
      done += r.bytes;
      continue;
    }
    if (r.status == net::TlsStatus::Closed) fail(deadline, what, "the connection closed");
    if (r.status == net::TlsStatus::Failed) fail(deadline, what, tls->error());
    if (deadline.expired()) fail(deadline, what, "");
    const std::error_code error = co_await WaitAwaiter{socket,
                                                       r.status == net::TlsStatus::WantRead
                                                           ? asio::ip::tcp::socket::wait_read
                                                           : asio::ip::tcp::socket::wait_write,
                                                       {}};
    if (error) fail(deadline, what, error.message());
  }
  while (done < data.size()) {
    const ssize_t n =
        ::send(socket.native_handle(), data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (deadline.expired()) fail(deadline, what, "");
      const std::error_code error =
          co_await WaitAwaiter{socket, asio::ip::tcp::socket::wait_write, {}};
      if (error) fail(deadline, what, error.message());
      continue;
    }
    fail(deadline, what, std::strerror(errno));
  }
}

Task<bool> readSome(asio::ip::tcp::socket& socket, std::string& out, const Deadline& deadline,
                    std::string what, net::TlsChannel* tls) {
  std::array<char, 16 * 1024> buffer;
  while (tls != nullptr) {
    const net::TlsResult r = tls->read(buffer.data(), buffer.size());
    if (r.status == net::TlsStatus::Ok) {
      out.append(buffer.data(), r.bytes);
      co_return true;
    }
    if (r.status == net::TlsStatus::Closed) co_return false;
    if (r.status == net::TlsStatus::Failed) fail(deadline, what, tls->error());
    if (deadline.expired()) fail(deadline, what, "");
    const std::error_code error = co_await WaitAwaiter{socket,
                                                       r.status == net::TlsStatus::WantRead
                                                           ? asio::ip::tcp::socket::wait_read
                                                           : asio::ip::tcp::socket::wait_write,
                                                       {}};
    if (error) fail(deadline, what, error.message());
  }
  while (true) {
    const ssize_t n = ::recv(socket.native_handle(), buffer.data(), buffer.size(), 0);
    if (n > 0) {
      out.append(buffer.data(), static_cast<std::size_t>(n));
      co_return true;
    }
    if (n == 0) co_return false;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) fail(deadline, what, std::strerror(errno));
    if (deadline.expired()) fail(deadline, what, "");
    const std::error_code error =
        co_await WaitAwaiter{socket, asio::ip::tcp::socket::wait_read, {}};
    if (error) fail(deadline, what, error.message());
  }
}

}  // namespace aerie::client::detail
