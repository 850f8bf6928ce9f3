#include "net/peer_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace aerie::net {

PeerAddress PeerAddress::fromSockaddr(const sockaddr_storage& peer) noexcept {
  PeerAddress address;
  if (peer.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(peer);
    address.family_ = Family::V4;
    address.port_ = ntohs(in.sin_port);
    std::memcpy(address.bytes_.data(), &in.sin_addr, 4);
  } else if (peer.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(peer);
    address.family_ = Family::V6;
    address.port_ = ntohs(in6.sin6_port);
    std::memcpy(address.bytes_.data(), &in6.sin6_addr, 16);
  }
  return address;
}

std::string PeerAddress::ip() const {
  if (family_ == Family::Unix) return "unix";
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family_ == Family::V4 ? AF_INET : AF_INET6, bytes_.data(), text, sizeof text);
  return text;
}

std::string PeerAddress::text() const {
  if (family_ == Family::Unix) return "unix";
  if (family_ == Family::V4) return ip() + ":" + std::to_string(port_);
  return "[" + ip() + "]:" + std::to_string(port_);
}

}  // namespace aerie::net
