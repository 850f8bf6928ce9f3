// net::PeerAddress: what accept() returned, kept in 20 bytes and formatted on demand, must
// read exactly as the strings the connection used to keep.
#include "net/peer_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "gtest/gtest.h"

namespace aerie::net {
namespace {

sockaddr_storage v4(const char* ip, std::uint16_t port) {
  sockaddr_storage storage{};
  auto& in = reinterpret_cast<sockaddr_in&>(storage);
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  EXPECT_EQ(inet_pton(AF_INET, ip, &in.sin_addr), 1);
  return storage;
}

sockaddr_storage v6(const char* ip, std::uint16_t port) {
  sockaddr_storage storage{};
  auto& in6 = reinterpret_cast<sockaddr_in6&>(storage);
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(port);
  EXPECT_EQ(inet_pton(AF_INET6, ip, &in6.sin6_addr), 1);
  return storage;
}

TEST(PeerAddress, Ipv4) {
  const auto peer = PeerAddress::fromSockaddr(v4("192.0.2.17", 54321));
  EXPECT_FALSE(peer.isUnix());
  EXPECT_EQ(peer.ip(), "192.0.2.17");
  EXPECT_EQ(peer.text(), "192.0.2.17:54321");
  EXPECT_EQ(PeerAddress::fromSockaddr(v4("255.255.255.255", 65535)).text(),
            "255.255.255.255:65535");
}

TEST(PeerAddress, Ipv6InBrackets) {
  const auto peer = PeerAddress::fromSockaddr(v6("2001:db8::1", 443));
  EXPECT_EQ(peer.ip(), "2001:db8::1");
  EXPECT_EQ(peer.text(), "[2001:db8::1]:443");
  EXPECT_EQ(PeerAddress::fromSockaddr(v6("::ffff:192.0.2.1", 8)).text(), "[::ffff:192.0.2.1]:8");
  EXPECT_EQ(PeerAddress::fromSockaddr(v6("::1", 1)).text(), "[::1]:1");
}

TEST(PeerAddress, UnixSocket) {
  const PeerAddress peer;
  EXPECT_TRUE(peer.isUnix());
  EXPECT_EQ(peer.ip(), "unix");
  EXPECT_EQ(peer.text(), "unix");
}

TEST(PeerAddress, IsSmall) {
  EXPECT_LE(sizeof(PeerAddress), 20u);
}

}  // namespace
}  // namespace aerie::net
