// WebSocket URL parsing (RFC 6455 3) for connect().
#include "client/ws_url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace aerie::client::detail {
namespace {

WsUrl ok(std::string_view text) {
  const WsUrlResult result = parseWsUrl(text);
  EXPECT_TRUE(result.url) << text << ": " << result.error;
  return result.url.value_or(WsUrl{});
}

std::string error(std::string_view text) {
  const WsUrlResult result = parseWsUrl(text);
  EXPECT_FALSE(result.url) << text << " was accepted";
  EXPECT_NE(result.error.find(std::string(text)), std::string::npos) << result.error;
  return result.error;
}

TEST(WsUrl, DefaultsAndExplicitPorts) {
  const WsUrl plain = ok("ws://example.com");
  EXPECT_FALSE(plain.secure);
  EXPECT_EQ(plain.host, "example.com");
  EXPECT_EQ(plain.port, 80);
  EXPECT_EQ(plain.target, "/");
  EXPECT_EQ(plain.hostHeader(), "example.com");
  EXPECT_EQ(plain.authority(), "example.com:80");

  const WsUrl secure = ok("WSS://Example.COM/chat");
  EXPECT_TRUE(secure.secure);
  EXPECT_EQ(secure.host, "example.com");
  EXPECT_EQ(secure.port, 443);
  EXPECT_EQ(secure.target, "/chat");

  const WsUrl ported = ok("ws://127.0.0.1:9001/a/b?x=1&y=%20z");
  EXPECT_EQ(ported.port, 9001);
  EXPECT_EQ(ported.target, "/a/b?x=1&y=%20z");
  EXPECT_EQ(ported.hostHeader(), "127.0.0.1:9001");
  EXPECT_EQ(ok("ws://h:80/").hostHeader(), "h");
  EXPECT_EQ(ok("wss://h:443/").hostHeader(), "h");
  EXPECT_EQ(ok("ws://h?q").target, "/?q");
}

TEST(WsUrl, Ipv6Literals) {
  const WsUrl v6 = ok("ws://[::1]:9000/ws");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 9000);
  EXPECT_EQ(v6.hostHeader(), "[::1]:9000");
  EXPECT_EQ(v6.authority(), "[::1]:9000");
  EXPECT_EQ(ok("ws://[2001:db8::1]").authority(), "[2001:db8::1]:80");
  EXPECT_NE(error("ws://[::1/").find("IPv6"), std::string::npos);
  EXPECT_NE(error("ws://[not-v6]/").find("IPv6"), std::string::npos);
  error("ws://[::1]x/");
}

TEST(WsUrl, SchemesOtherThanWsAreRefusedByName) {
  EXPECT_NE(error("http://example.com/").find("http://"), std::string::npos);
  EXPECT_NE(error("https://example.com/").find("ws://"), std::string::npos);
  EXPECT_NE(error("example.com/ws").find("ws:// or wss://"), std::string::npos);
  error("ftp://x/");
}

TEST(WsUrl, RfcForbidsFragmentsAndWeRefuseUserInfo) {
  EXPECT_NE(error("ws://h/path#frag").find("fragment"), std::string::npos);
  EXPECT_NE(error("ws://user:pw@h/").find("user"), std::string::npos);
}

TEST(WsUrl, MalformedAuthorityAndPath) {
  EXPECT_NE(error("ws:///path").find("host"), std::string::npos);
  EXPECT_NE(error("ws://h:/").find("port"), std::string::npos);
  EXPECT_NE(error("ws://h:0/").find("port"), std::string::npos);
  EXPECT_NE(error("ws://h:65536/").find("port"), std::string::npos);
  EXPECT_NE(error("ws://h:12a/").find("port"), std::string::npos);
  EXPECT_NE(error("ws://h /").find("spaces"), std::string::npos);
  EXPECT_NE(error("ws://h/a b").find("spaces"), std::string::npos);
  EXPECT_NE(error(std::string("ws://h/\x01")).find("control"), std::string::npos);
  EXPECT_NE(error("ws://h/%zz").find("percent"), std::string::npos);
  EXPECT_NE(error("ws://h/%4").find("percent"), std::string::npos);
  EXPECT_NE(error("ws://h/a\"b").find("percent"), std::string::npos);
  error("ws://bad<host>/");
  EXPECT_EQ(ok("ws://h:65535/").port, 65535);
}

}  // namespace
}  // namespace aerie::client::detail
