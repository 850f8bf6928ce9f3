#include "aerie/protocol/close_code.hpp"

#include "aerie/protocol/utf8.hpp"

namespace aerie::protocol {
namespace {

// A close frame is a control frame: its payload is at most 125 bytes (RFC 6455 5.5).
constexpr std::size_t kMaxClosePayload = 125;
constexpr std::size_t kMaxCloseReason = kMaxClosePayload - 2;

std::uint16_t codeOf(std::span<const char> payload) noexcept {
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                    static_cast<std::uint8_t>(payload[1]));
}

std::string_view reasonOf(std::span<const char> payload) noexcept {
  return {payload.data() + 2, payload.size() - 2};
}

bool hasValidShape(std::span<const char> payload) noexcept {
  return payload.size() != 1 && payload.size() <= kMaxClosePayload &&
         (payload.empty() || isValidCloseCodeOnWire(codeOf(payload)));
}

}  // namespace

std::optional<ClosePayload> parseClosePayload(std::span<const char> payload) noexcept {
  if (payload.empty()) return ClosePayload{};
  if (!hasValidShape(payload)) return std::nullopt;
  const std::string_view reason = reasonOf(payload);
  if (!isValidUtf8(reason)) return std::nullopt;
  return ClosePayload{codeOf(payload), reason};
}

std::uint16_t closeErrorFor(std::span<const char> payload) noexcept {
  if (!hasValidShape(payload)) return close_code::ProtocolError;
  if (payload.size() > 2 && !isValidUtf8(reasonOf(payload))) return close_code::InvalidPayload;
  // A valid payload needs no error answer: a normal close echoes it.
  return close_code::Normal;
}

std::string encodeClosePayload(std::uint16_t code, std::string_view reason) {
  if (code == close_code::NoStatus) return {};
  if (reason.size() > kMaxCloseReason) {
    std::size_t cut = kMaxCloseReason;
    // Back up over continuation bytes (10xxxxxx) so no code point is split.
    while (cut > 0 && (static_cast<std::uint8_t>(reason[cut]) & 0xC0) == 0x80)
      --cut;
    reason = reason.substr(0, cut);
  }
  std::string payload;
  payload.reserve(2 + reason.size());
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return payload;
}

}  // namespace aerie::protocol
