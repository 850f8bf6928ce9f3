// Close status codes (RFC 6455 section 7.4) and close frame payloads (section 5.5.1).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace aerie::protocol {

namespace close_code {
inline constexpr std::uint16_t Normal = 1000;
inline constexpr std::uint16_t GoingAway = 1001;
inline constexpr std::uint16_t ProtocolError = 1002;
inline constexpr std::uint16_t UnsupportedData = 1003;
inline constexpr std::uint16_t NoStatus = 1005;        // never on the wire
inline constexpr std::uint16_t Abnormal = 1006;        // never on the wire
inline constexpr std::uint16_t InvalidPayload = 1007;  // e.g. bad UTF-8
inline constexpr std::uint16_t PolicyViolation = 1008;
inline constexpr std::uint16_t MessageTooBig = 1009;
inline constexpr std::uint16_t MandatoryExtension = 1010;
inline constexpr std::uint16_t InternalError = 1011;
inline constexpr std::uint16_t ServiceRestart = 1012;
inline constexpr std::uint16_t TryAgainLater = 1013;
inline constexpr std::uint16_t BadGateway = 1014;
inline constexpr std::uint16_t TlsHandshake = 1015;  // never on the wire
}  // namespace close_code

/// True for codes an endpoint may send or accept in a close frame: 1000-1003, 1007-1014
/// (registered with IANA) and 3000-4999 (libraries/applications). 1004, 1005, 1006, 1015,
/// 0-999, the rest of 1000-2999 and 5000+ are invalid on the wire.
constexpr bool isValidCloseCodeOnWire(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

/// A parsed close frame payload. An empty payload yields code 1005 (no status) and no reason.
struct ClosePayload {
  std::uint16_t code = close_code::NoStatus;
  std::string_view reason;  // points into the parsed payload
};

/// Parses a close frame payload: empty, or a 2-byte code (valid on the wire) followed by
/// a UTF-8 reason. Returns nothing for a 1-byte payload, an invalid code or a reason that
/// is not valid UTF-8 (all of which are answered with 1002 / 1007 by the caller; see
/// closeErrorFor()).
std::optional<ClosePayload> parseClosePayload(std::span<const char> payload) noexcept;

/// The close code a peer's invalid close payload must be answered with: 1007 when only the
/// reason is bad UTF-8, 1002 otherwise.
std::uint16_t closeErrorFor(std::span<const char> payload) noexcept;

/// Encodes code + reason into a close payload (reason truncated to 123 bytes at a UTF-8
/// boundary). Code 1005 encodes the empty payload.
std::string encodeClosePayload(std::uint16_t code, std::string_view reason);

}  // namespace aerie::protocol
