#include "aerie/protocol/header_values.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aerie::protocol {
namespace {

using Strings = std::vector<std::string_view>;

// ---- tokens and small helpers ----

TEST(HeaderValues, TcharMatchesRfc7230) {
  const std::string_view tchars = "!#$%&'*+-.^_`|~0123456789abcxyzABCXYZ";
  for (const char c : tchars)
    EXPECT_TRUE(isTchar(c)) << c;
  const std::string_view separators = "\"(),/:;<=>?@[\\]{} \t\x7f\x01";
  for (const char c : separators)
    EXPECT_FALSE(isTchar(c)) << int{c};
  EXPECT_FALSE(isTchar('\0'));
  EXPECT_FALSE(isTchar(static_cast<char>(0xC3)));  // non-ASCII
}

TEST(HeaderValues, IsToken) {
  EXPECT_TRUE(isToken("websocket"));
  EXPECT_TRUE(isToken("permessage-deflate"));
  EXPECT_TRUE(isToken("x"));
  EXPECT_FALSE(isToken(""));
  EXPECT_FALSE(isToken("a b"));
  EXPECT_FALSE(isToken("a,b"));
  EXPECT_FALSE(isToken("\"quoted\""));
  EXPECT_FALSE(isToken("a=b"));
}

TEST(HeaderValues, EqualsIgnoreCaseIsAsciiOnly) {
  EXPECT_TRUE(equalsIgnoreCase("Sec-WebSocket-Key", "sec-websocket-key"));
  EXPECT_TRUE(equalsIgnoreCase("", ""));
  EXPECT_FALSE(equalsIgnoreCase("Upgrade", "Upgrades"));
  EXPECT_FALSE(equalsIgnoreCase("a", "b"));
  // '@' (0x40) and '`' (0x60) differ by the case bit but are not letters.
  EXPECT_FALSE(equalsIgnoreCase("@", "`"));
  EXPECT_FALSE(equalsIgnoreCase("[", "{"));
}

TEST(HeaderValues, TrimOws) {
  EXPECT_EQ(trimOws(" \t a b \t "), "a b");
  EXPECT_EQ(trimOws("   "), "");
  EXPECT_EQ(trimOws(""), "");
  EXPECT_EQ(trimOws("\r\nx"), "\r\nx");  // CR/LF are not OWS
}

TEST(HeaderValues, FieldValueRefusesControlCharacters) {
  EXPECT_TRUE(isValidFieldValue("plain value, with\ttab"));
  EXPECT_TRUE(isValidFieldValue(""));
  EXPECT_TRUE(isValidFieldValue("caf\xC3\xA9"));  // obs-text is allowed
  EXPECT_FALSE(isValidFieldValue("a\r\nInjected: yes"));
  EXPECT_FALSE(isValidFieldValue("a\nb"));
  EXPECT_FALSE(isValidFieldValue("a\rb"));
  EXPECT_FALSE(isValidFieldValue(std::string_view("a\0b", 3)));
  EXPECT_FALSE(isValidFieldValue("a\x7f"));
}

// ---- token lists ----

TEST(HeaderValues, SplitTokenList) {
  EXPECT_EQ(splitTokenList("a"), (Strings{"a"}));
  EXPECT_EQ(splitTokenList("keep-alive, Upgrade"), (Strings{"keep-alive", "Upgrade"}));
  EXPECT_EQ(splitTokenList(" a ,\tb\t,c "), (Strings{"a", "b", "c"}));
  EXPECT_EQ(splitTokenList(",, a , ,b,"), (Strings{"a", "b"}));  // empty elements skipped
  EXPECT_EQ(splitTokenList(""), Strings{});
  EXPECT_EQ(splitTokenList(" , ,"), Strings{});
  EXPECT_EQ(splitTokenList("a b, c"), (Strings{"a b", "c"}));  // not validated
}

TEST(HeaderValues, HasTokenIgnoresCaseAndWhitespace) {
  EXPECT_TRUE(hasToken("Upgrade", "upgrade"));
  EXPECT_TRUE(hasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(hasToken("keep-alive,UPGRADE", "upgrade"));
  EXPECT_TRUE(hasToken("  websocket  ", "websocket"));
  EXPECT_TRUE(hasToken("websocket, foo", "WebSocket"));
  EXPECT_TRUE(hasToken("foo,\twebsocket", "websocket"));
  EXPECT_TRUE(hasToken(",,websocket,,", "websocket"));
  EXPECT_FALSE(hasToken("upgrades", "upgrade"));
  EXPECT_FALSE(hasToken("keep-alive upgrade", "upgrade"));  // one element "keep-alive upgrade"
  EXPECT_FALSE(hasToken("websocket2, foo", "websocket"));
  EXPECT_FALSE(hasToken("", "upgrade"));
  EXPECT_FALSE(hasToken("a, , b", ""));
}

TEST(HeaderValues, HeaderLookupIsCaseInsensitiveAndSeesRepeats) {
  const HeaderField headers[] = {{"Host", "example.com"},
                                 {"connection", "keep-alive"},
                                 {"CONNECTION", "Upgrade"},
                                 {"X-Other", "1"}};
  EXPECT_EQ(countHeaders(headers, "Connection"), 2u);
  EXPECT_EQ(countHeaders(headers, "host"), 1u);
  EXPECT_EQ(countHeaders(headers, "Upgrade"), 0u);
  ASSERT_NE(findHeader(headers, "HOST"), nullptr);
  EXPECT_EQ(findHeader(headers, "HOST")->value, "example.com");
  EXPECT_EQ(findHeader(headers, "connection")->value, "keep-alive");  // the first
  EXPECT_EQ(findHeader(headers, "Upgrade"), nullptr);
  EXPECT_TRUE(headersHaveToken(headers, "Connection", "upgrade"));  // second line
  EXPECT_TRUE(headersHaveToken(headers, "Connection", "keep-alive"));
  EXPECT_FALSE(headersHaveToken(headers, "X-Other", "upgrade"));
  EXPECT_EQ(combinedHeaderValue(headers, "connection"), "keep-alive, Upgrade");
  EXPECT_EQ(combinedHeaderValue(headers, "Missing"), "");
}

// ---- Sec-WebSocket-Protocol ----

TEST(HeaderValues, ParseSubprotocols) {
  auto one = parseSubprotocols("chat");
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, (Strings{"chat"}));

  auto several = parseSubprotocols("chat, superchat ,\tv2.json.example.org");
  ASSERT_TRUE(several);
  EXPECT_EQ(*several, (Strings{"chat", "superchat", "v2.json.example.org"}));

  auto withEmpty = parseSubprotocols(",chat,,Chat,");
  ASSERT_TRUE(withEmpty);
  EXPECT_EQ(*withEmpty, (Strings{"chat", "Chat"}));  // case kept, both kept
}

TEST(HeaderValues, ParseSubprotocolsRejectsGarbage) {
  EXPECT_FALSE(parseSubprotocols(""));
  EXPECT_FALSE(parseSubprotocols(" , "));
  EXPECT_FALSE(parseSubprotocols("chat super"));
  EXPECT_FALSE(parseSubprotocols("chat, \"super\""));
  EXPECT_FALSE(parseSubprotocols("chat; q=1"));
  EXPECT_FALSE(parseSubprotocols("a/b"));
  EXPECT_FALSE(parseSubprotocols("chat,\x01"));
}

// ---- Sec-WebSocket-Extensions ----

ExtensionParam bare(std::string name) {
  return ExtensionParam{std::move(name), std::nullopt};
}
ExtensionParam valued(std::string name, std::string value) {
  return ExtensionParam{std::move(name), std::move(value)};
}

TEST(ExtensionHeader, SingleBareExtension) {
  auto parsed = parseExtensions("permessage-deflate");
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].name, "permessage-deflate");
  EXPECT_TRUE((*parsed)[0].params.empty());
}

TEST(ExtensionHeader, Rfc7692Examples) {
  // RFC 7692 section 5 / 7.1 offers and responses.
  auto a = parseExtensions("permessage-deflate; client_max_window_bits");
  ASSERT_TRUE(a);
  EXPECT_EQ(
      *a, (std::vector<ExtensionOffer>{{"permessage-deflate", {bare("client_max_window_bits")}}}));

  auto b = parseExtensions(
      "permessage-deflate; client_max_window_bits; server_max_window_bits=10, "
      "permessage-deflate; client_max_window_bits");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, (std::vector<ExtensionOffer>{
                    {"permessage-deflate",
                     {bare("client_max_window_bits"), valued("server_max_window_bits", "10")}},
                    {"permessage-deflate", {bare("client_max_window_bits")}}}));

  auto c = parseExtensions(
      "permessage-deflate; server_no_context_takeover; "
      "client_no_context_takeover");
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, (std::vector<ExtensionOffer>{
                    {"permessage-deflate",
                     {bare("server_no_context_takeover"), bare("client_no_context_takeover")}}}));

  auto d = parseExtensions("permessage-deflate; server_max_window_bits=10, permessage-deflate");
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].params, (std::vector<ExtensionParam>{valued("server_max_window_bits", "10")}));
  EXPECT_TRUE((*d)[1].params.empty());

  // The brief's example: several offers in one header.
  auto e = parseExtensions("permessage-deflate; client_max_window_bits, permessage-deflate");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->size(), 2u);
}

TEST(ExtensionHeader, Rfc6455Section9Example) {
  auto parsed = parseExtensions("mux; max-channels=4; flow-control, deflate-stream");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, (std::vector<ExtensionOffer>{
                         {"mux", {valued("max-channels", "4"), bare("flow-control")}},
                         {"deflate-stream", {}}}));
}

TEST(ExtensionHeader, QuotedValuesAreUnescaped) {
  auto quoted = parseExtensions("permessage-deflate; server_max_window_bits=\"10\"");
  ASSERT_TRUE(quoted);
  EXPECT_EQ((*quoted)[0].params,
            (std::vector<ExtensionParam>{valued("server_max_window_bits", "10")}));

  auto escaped = parseExtensions(R"(x; a="1\0"; b="\t\o\k")");
  ASSERT_TRUE(escaped);
  EXPECT_EQ((*escaped)[0].params,
            (std::vector<ExtensionParam>{valued("a", "10"), valued("b", "tok")}));

  // A comma inside quotes does not split offers... but it is not a token, so rejected.
  EXPECT_FALSE(parseExtensions(R"(x; a="1,2", y)"));
}

TEST(ExtensionHeader, WhitespaceAroundSeparators) {
  auto parsed = parseExtensions(
      " \tpermessage-deflate ;client_max_window_bits ; server_max_window_bits = 10\t,"
      "  permessage-deflate ; server_max_window_bits= \"12\" ");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, (std::vector<ExtensionOffer>{
                         {"permessage-deflate",
                          {bare("client_max_window_bits"), valued("server_max_window_bits", "10")}},
                         {"permessage-deflate", {valued("server_max_window_bits", "12")}}}));
}

TEST(ExtensionHeader, EmptyListElementsAreSkipped) {
  auto parsed = parseExtensions(", permessage-deflate ,, foo ,");
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].name, "permessage-deflate");
  EXPECT_EQ((*parsed)[1].name, "foo");
}

TEST(ExtensionHeader, RejectsMalformedValues) {
  const char* const bad[] = {
      "",                                 // no extension at all
      "   ",                              //
      ",",                                //
      "; client_max_window_bits",         // missing name
      "permessage-deflate;;x",            // empty parameter
      "permessage-deflate;",              // trailing ';'
      "permessage-deflate; ",             //
      "permessage-deflate; =10",          // parameter without a name
      "permessage-deflate; a=",           // '=' without a value
      "permessage-deflate; a= ; b",       //
      "permessage-deflate; a=, x",        //
      "permessage-deflate; a=\"10",       // unterminated quote
      "permessage-deflate; a=\"10\\",     // unterminated escape
      "permessage-deflate; a=\"\"",       // empty quoted value is not a token
      "permessage-deflate; a=\"1 0\"",    // unescaped value must be a token
      "permessage-deflate; a=\"1\"0",     // junk after the quoted string
      "permessage-deflate; a=1 0",        // two tokens
      "permessage deflate",               // two tokens in a name
      "permessage-deflate x",             //
      "permessage@deflate",               // non-token character
      "permessage-deflate; a@b",          //
      "permessage-deflate; a=1@",         //
      "permessage-deflate; a==1",         //
      "\"permessage-deflate\"",           // quoted name
      "permessage-deflate; \"a\"=1",      // quoted parameter name
      "permessage-deflate; a=\"1\x01\"",  // control character in quotes
      "permessage-deflate\r\n; a",        // CR/LF
  };
  for (const char* input : bad) {
    EXPECT_FALSE(parseExtensions(input)) << "accepted: " << input;
  }
}

TEST(ExtensionHeader, FormatWritesCanonicalForm) {
  const std::vector<ExtensionOffer> offers = {
      {"permessage-deflate",
       {bare("client_max_window_bits"), valued("server_max_window_bits", "10")}},
      {"permessage-deflate", {}}};
  EXPECT_EQ(formatExtensions(offers),
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10, "
            "permessage-deflate");
  EXPECT_EQ(formatExtensions({}), "");
}

TEST(ExtensionHeader, FormatQuotesNonTokenValues) {
  const std::vector<ExtensionOffer> offers = {{"x", {valued("a", "b c\"d\\")}}};
  EXPECT_EQ(formatExtensions(offers), R"(x; a="b c\"d\\")");
}

TEST(ExtensionHeader, FormatThenParseRoundTrips) {
  const std::string input =
      " permessage-deflate ;client_no_context_takeover;server_max_window_bits=\"9\","
      "x-custom; a; b=c ,deflate-stream";
  auto parsed = parseExtensions(input);
  ASSERT_TRUE(parsed);
  const std::string formatted = formatExtensions(*parsed);
  EXPECT_EQ(formatted,
            "permessage-deflate; client_no_context_takeover; server_max_window_bits=9, "
            "x-custom; a; b=c, deflate-stream");
  auto reparsed = parseExtensions(formatted);
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(*reparsed, *parsed);
}

}  // namespace
}  // namespace aerie::protocol
