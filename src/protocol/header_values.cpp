#include "aerie/protocol/header_values.hpp"

namespace aerie::protocol {
namespace {

constexpr bool isOws(char c) noexcept {
  return c == ' ' || c == '\t';
}

constexpr char toLowerAscii(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Calls `fn(element)` for each trimmed, non-empty element of a comma list; stops early
// when fn returns true and returns whether it did.
template <typename Fn>
bool forEachListElement(std::string_view list, Fn&& fn) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view element =
        trimOws(comma == std::string_view::npos ? list : list.substr(0, comma));
    if (!element.empty() && fn(element)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// A cursor over an extension header value. Each method consumes what it recognises and
// reports failure by returning false / nullopt; the caller then gives up on the value.
class ExtensionParser {
 public:
  explicit ExtensionParser(std::string_view text) noexcept : text_(text) {}

  bool atEnd() const noexcept { return pos_ == text_.size(); }
  char peek() const noexcept { return text_[pos_]; }
  void advance() noexcept { ++pos_; }

  void skipOws() noexcept {
    while (!atEnd() && isOws(text_[pos_]))
      ++pos_;
  }

  // Consumes a token; empty when the next character is not a tchar.
  std::string_view token() noexcept {
    const std::size_t start = pos_;
    while (!atEnd() && isTchar(text_[pos_]))
      ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // Consumes a quoted-string (the opening DQUOTE is next) and returns it unescaped.
  // RFC 7230 3.2.6: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text,
  // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ).
  std::optional<std::string> quotedString() {
    ++pos_;  // opening quote
    std::string out;
    while (!atEnd()) {
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (atEnd()) return std::nullopt;
        const char escaped = text_[pos_++];
        if (!isQuotedPairChar(escaped)) return std::nullopt;
        out.push_back(escaped);
        continue;
      }
      if (!isQdtext(c)) return std::nullopt;
      out.push_back(c);
    }
    return std::nullopt;  // unterminated
  }

 private:
  static bool isQdtext(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || u == ' ' || u == 0x21 || (u >= 0x23 && u <= 0x5B) ||
           (u >= 0x5D && u <= 0x7E) || u >= 0x80;
  }
  static bool isQuotedPairChar(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || u == ' ' || (u >= 0x21 && u <= 0x7E) || u >= 0x80;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// Parses `extension-token *( ";" extension-param )` starting at a non-OWS character and
// stops before the "," that ends it (or at the end).
std::optional<ExtensionOffer> parseOneExtension(ExtensionParser& p) {
  ExtensionOffer offer;
  const std::string_view name = p.token();
  if (name.empty()) return std::nullopt;
  offer.name.assign(name);
  p.skipOws();
  while (!p.atEnd() && p.peek() == ';') {
    p.advance();
    p.skipOws();
    ExtensionParam param;
    const std::string_view paramName = p.token();
    if (paramName.empty()) return std::nullopt;  // ";;", trailing ";", "; =x", garbage
    param.name.assign(paramName);
    p.skipOws();
    if (!p.atEnd() && p.peek() == '=') {
      p.advance();
      p.skipOws();
      if (p.atEnd()) return std::nullopt;
      if (p.peek() == '"') {
        auto value = p.quotedString();
        // RFC 6455 9.1: the unescaped quoted value must conform to the token ABNF.
        if (!value || !isToken(*value)) return std::nullopt;
        param.value = std::move(*value);
      } else {
        const std::string_view value = p.token();
        if (value.empty()) return std::nullopt;
        param.value.emplace(value);
      }
      p.skipOws();
    }
    offer.params.push_back(std::move(param));
  }
  return offer;
}

void appendParamValue(std::string& out, std::string_view value) {
  if (isToken(value)) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (const char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

bool isToken(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (const char c : text) {
    if (!isTchar(c)) return false;
  }
  return true;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (toLowerAscii(a[i]) != toLowerAscii(b[i])) return false;
  }
  return true;
}

std::string_view trimOws(std::string_view text) noexcept {
  while (!text.empty() && isOws(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && isOws(text.back()))
    text.remove_suffix(1);
  return text;
}

bool isValidFieldValue(std::string_view value) noexcept {
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7F) return false;
  }
  return true;
}

std::vector<std::string_view> splitTokenList(std::string_view list) {
  std::vector<std::string_view> out;
  forEachListElement(list, [&out](std::string_view element) {
    out.push_back(element);
    return false;
  });
  return out;
}

bool hasToken(std::string_view list, std::string_view token) noexcept {
  return forEachListElement(
      list, [token](std::string_view element) { return equalsIgnoreCase(element, token); });
}

std::size_t countHeaders(std::span<const HeaderField> headers, std::string_view name) noexcept {
  std::size_t n = 0;
  for (const HeaderField& field : headers) {
    if (equalsIgnoreCase(field.name, name)) ++n;
  }
  return n;
}

const HeaderField* findHeader(std::span<const HeaderField> headers,
                              std::string_view name) noexcept {
  for (const HeaderField& field : headers) {
    if (equalsIgnoreCase(field.name, name)) return &field;
  }
  return nullptr;
}

bool headersHaveToken(std::span<const HeaderField> headers, std::string_view name,
                      std::string_view token) noexcept {
  for (const HeaderField& field : headers) {
    if (equalsIgnoreCase(field.name, name) && hasToken(field.value, token)) return true;
  }
  return false;
}

std::string combinedHeaderValue(std::span<const HeaderField> headers, std::string_view name) {
  std::string out;
  for (const HeaderField& field : headers) {
    if (!equalsIgnoreCase(field.name, name)) continue;
    if (!out.empty()) out.append(", ");
    out.append(field.value);
  }
  return out;
}

std::optional<std::vector<std::string_view>> parseSubprotocols(std::string_view value) {
  std::vector<std::string_view> out;
  const bool bad = forEachListElement(value, [&out](std::string_view element) {
    if (!isToken(element)) return true;
    out.push_back(element);
    return false;
  });
  if (bad || out.empty()) return std::nullopt;
  return out;
}

std::optional<std::vector<ExtensionOffer>> parseExtensions(std::string_view value) {
  std::vector<ExtensionOffer> offers;
  ExtensionParser p(value);
  while (true) {
    p.skipOws();
    if (p.atEnd()) break;
    if (p.peek() == ',') {  // empty list element
      p.advance();
      continue;
    }
    auto offer = parseOneExtension(p);
    if (!offer) return std::nullopt;
    offers.push_back(std::move(*offer));
    // parseOneExtension stops after OWS at the end, a "," or anything unexpected.
    if (p.atEnd()) break;
    if (p.peek() != ',') return std::nullopt;
    p.advance();
  }
  if (offers.empty()) return std::nullopt;
  return offers;
}

std::string formatExtensions(std::span<const ExtensionOffer> offers) {
  std::string out;
  for (const ExtensionOffer& offer : offers) {
    if (!out.empty()) out.append(", ");
    out.append(offer.name);
    for (const ExtensionParam& param : offer.params) {
      out.append("; ");
      out.append(param.name);
      if (param.value) {
        out.push_back('=');
        appendParamValue(out, *param.value);
      }
    }
  }
  return out;
}

}  // namespace aerie::protocol
