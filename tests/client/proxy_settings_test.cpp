// Proxy URLs, curl's environment variables and no_proxy rules, the CONNECT request.
#include "client/proxy_settings.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace aerie::client::detail {
namespace {

TEST(ProxySettings, ParsesProxyUrls) {
  const ProxyResult full = parseProxyUrl("http://al%40ice:p%3Ass@Proxy.Example:3128/");
  ASSERT_TRUE(full.proxy) << full.error;
  EXPECT_EQ(full.proxy->host, "proxy.example");
  EXPECT_EQ(full.proxy->port, 3128);
  EXPECT_EQ(full.proxy->username, "al@ice");
  EXPECT_EQ(full.proxy->password, "p:ss");
  EXPECT_EQ(full.proxy->authority(), "proxy.example:3128");

  const ProxyResult bare = parseProxyUrl("127.0.0.1:8888");
  ASSERT_TRUE(bare.proxy) << bare.error;
  EXPECT_EQ(bare.proxy->port, 8888);
  EXPECT_TRUE(bare.proxy->username.empty());

  const ProxyResult defaultPort = parseProxyUrl("http://proxy");
  ASSERT_TRUE(defaultPort.proxy);
  EXPECT_EQ(defaultPort.proxy->port, 80);

  const ProxyResult v6 = parseProxyUrl("http://[::1]:3128");
  ASSERT_TRUE(v6.proxy) << v6.error;
  EXPECT_EQ(v6.proxy->host, "::1");
  EXPECT_EQ(v6.proxy->authority(), "[::1]:3128");
}

TEST(ProxySettings, RefusesWhatItCannotUse) {
  EXPECT_NE(parseProxyUrl("https://proxy:443").error.find("TLS"), std::string::npos);
  EXPECT_NE(parseProxyUrl("socks5://proxy:1080").error.find("http://"), std::string::npos);
  EXPECT_FALSE(parseProxyUrl("http://:3128").proxy);
  EXPECT_FALSE(parseProxyUrl("http://proxy:99999").proxy);
  EXPECT_FALSE(parseProxyUrl("http://proxy:3128/path").proxy);
  EXPECT_FALSE(parseProxyUrl("http://u:%zz@proxy").proxy);
}

TEST(ProxySettings, NoProxyFollowsCurl) {
  EXPECT_TRUE(noProxyMatches("*", "anything", 80));
  EXPECT_TRUE(noProxyMatches("example.com", "example.com", 80));
  EXPECT_TRUE(noProxyMatches("example.com", "a.b.example.com", 80));
  EXPECT_TRUE(noProxyMatches(".example.com", "a.example.com", 80));
  EXPECT_TRUE(noProxyMatches(".example.com", "example.com", 80));
  EXPECT_FALSE(noProxyMatches("example.com", "badexample.com", 80));
  EXPECT_TRUE(noProxyMatches("localhost, 127.0.0.1", "127.0.0.1", 9000));
  EXPECT_FALSE(noProxyMatches("127.0.0.1", "127.0.0.10", 9000));
  EXPECT_TRUE(noProxyMatches("a.test b.test,c.test", "b.test", 1));
  EXPECT_TRUE(noProxyMatches("EXAMPLE.com", "www.Example.COM", 1));
  EXPECT_TRUE(noProxyMatches("example.com:8080", "example.com", 8080));
  EXPECT_FALSE(noProxyMatches("example.com:8080", "example.com", 80));
  EXPECT_TRUE(noProxyMatches("[::1]", "::1", 80));
  EXPECT_TRUE(noProxyMatches("::1", "::1", 80));
  EXPECT_FALSE(noProxyMatches("", "example.com", 80));
}

TEST(ProxySettings, EnvironmentPrecedence) {
  std::map<std::string, std::string> env;
  const auto getenv = [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  EXPECT_FALSE(proxyFromEnvironment(false, "h", 80, getenv).proxy);
  env["HTTP_PROXY"] = "http://upper:1";
  EXPECT_EQ(proxyFromEnvironment(false, "h", 80, getenv).proxy->host, "upper");
  env["http_proxy"] = "http://lower:2";
  EXPECT_EQ(proxyFromEnvironment(false, "h", 80, getenv).proxy->host, "lower");
  env["http_proxy"] = "";  // empty counts as unset
  EXPECT_EQ(proxyFromEnvironment(false, "h", 80, getenv).proxy->host, "upper");
  // wss:// looks at https_proxy only.
  EXPECT_FALSE(proxyFromEnvironment(true, "h", 443, getenv).proxy);
  env["https_proxy"] = "http://secure:3";
  EXPECT_EQ(proxyFromEnvironment(true, "h", 443, getenv).proxy->host, "secure");
  env["NO_PROXY"] = "h";
  EXPECT_FALSE(proxyFromEnvironment(true, "h", 443, getenv).proxy);
  EXPECT_TRUE(proxyFromEnvironment(true, "other", 443, getenv).proxy);
  env["no_proxy"] = "nothing.test";  // lower case wins over NO_PROXY
  EXPECT_TRUE(proxyFromEnvironment(true, "h", 443, getenv).proxy);
  env["https_proxy"] = "https://tls-proxy";
  EXPECT_FALSE(proxyFromEnvironment(true, "h", 443, getenv).error.empty());
}

TEST(ProxySettings, ConnectRequest) {
  ProxySettings proxy;
  proxy.host = "p";
  proxy.port = 3128;
  EXPECT_EQ(buildConnectRequest("example.com:80", proxy),
            "CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n");
  proxy.username = "Aladdin";
  proxy.password = "open sesame";
  EXPECT_EQ(buildConnectRequest("[::1]:9000", proxy),
            "CONNECT [::1]:9000 HTTP/1.1\r\nHost: [::1]:9000\r\n"
            "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
}

}  // namespace
}  // namespace aerie::client::detail
