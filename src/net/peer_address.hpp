// The address of an accepted peer in 20 bytes, formatted only when someone asks.
//
// Why: every connection kept its peer as two strings ("ip:port" and "ip", 64 bytes even
// when both fit the short-string buffer, an allocation each for IPv6), read only by log
// lines, the per-IP limit (at accept and close) and HTTP requests (formatted once per HTTP
// session). An idle WebSocket server holds many connections and formats none of them.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>

namespace aerie::net {

class PeerAddress {
 public:
  /// A Unix-domain socket's peer ("unix").
  PeerAddress() noexcept = default;
  /// An IPv4 or IPv6 peer as accept() returned it.
  static PeerAddress fromSockaddr(const sockaddr_storage& peer) noexcept;

  bool isUnix() const noexcept { return family_ == Family::Unix; }
  /// "192.0.2.1:443", "[2001:db8::1]:443" or "unix".
  std::string text() const;
  /// "192.0.2.1", "2001:db8::1" or "unix".
  std::string ip() const;

 private:
  enum class Family : std::uint8_t { Unix, V4, V6 };
  Family family_ = Family::Unix;
  std::uint16_t port_ = 0;                // host order
  std::array<std::uint8_t, 16> bytes_{};  // network order; IPv4 in the first 4
};

}  // namespace aerie::net
