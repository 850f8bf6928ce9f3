// permessage-deflate negotiation (RFC 7692 section 7), both roles, sans-IO.
//
// Window bits: zlib cannot produce raw deflate streams with an 8-bit window (it silently
// uses 9). An endpoint that agreed to compress with an 8-bit window therefore sends its
// messages uncompressed (always allowed: RSV1 is per message), and a client configured for
// 8 offers 9. Inflating is unaffected: a larger window reads any smaller one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "aerie/protocol/header_values.hpp"

namespace aerie::protocol {

/// What an endpoint is willing to do (server) or asks for (client).
struct DeflateConfig {
  /// Server: always answer with server_no_context_takeover (its compressor forgets between
  /// messages: no per-connection window kept). Client: ask the server for it.
  bool serverNoContextTakeover = false;
  /// Server: ask the client not to keep context. Client: offer it.
  bool clientNoContextTakeover = false;
  /// Server: the largest window it compresses with. Client: ask the server for this window
  /// (15 = no request).
  int serverMaxWindowBits = 15;
  /// Server: the largest window it lets the client compress with (needs the client's
  /// client_max_window_bits offer). Client: the window it compresses with, offered as
  /// client_max_window_bits (8 is offered as 9).
  int clientMaxWindowBits = 15;
};

/// What was agreed, from the RFC's point of view (server_* = what the server sends).
struct DeflateParameters {
  bool serverNoContextTakeover = false;
  bool clientNoContextTakeover = false;
  int serverMaxWindowBits = 15;
  int clientMaxWindowBits = 15;

  bool operator==(const DeflateParameters&) const = default;
};

/// DeflateParameters in 5 bytes (std::optional<DeflateParameters> takes 16), for state
/// every connection carries: `negotiated` says whether the extension is in use at all.
struct CompactDeflateParameters {
  bool negotiated = false;
  bool serverNoContextTakeover = false;
  bool clientNoContextTakeover = false;
  std::uint8_t serverMaxWindowBits = 0;
  std::uint8_t clientMaxWindowBits = 0;

  CompactDeflateParameters() = default;
  explicit CompactDeflateParameters(const DeflateParameters& p) noexcept
      : negotiated(true),
        serverNoContextTakeover(p.serverNoContextTakeover),
        clientNoContextTakeover(p.clientNoContextTakeover),
        serverMaxWindowBits(static_cast<std::uint8_t>(p.serverMaxWindowBits)),
        clientMaxWindowBits(static_cast<std::uint8_t>(p.clientMaxWindowBits)) {}

  /// The full parameters; meaningful only when `negotiated`.
  DeflateParameters expand() const noexcept {
    return {serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits,
            clientMaxWindowBits};
  }
};

struct DeflateAgreement {
  DeflateParameters parameters;
  std::string response;  // the Sec-WebSocket-Extensions value to answer with
};

/// Server: takes the first acceptable permessage-deflate offer among `offers` (other
/// extensions are ignored). An offer with an unknown, duplicate or invalid parameter is
/// declined and the next one is tried. nullopt: none acceptable, no compression.
std::optional<DeflateAgreement> negotiateDeflate(std::span<const ExtensionOffer> offers,
                                                 const DeflateConfig& config);

/// Every agreed parameter spelled out ("permessage-deflate; server_no_context_takeover;
/// server_max_window_bits=15; client_max_window_bits=15"): for logs and ClientInfo.
std::string formatDeflateParameters(const DeflateParameters& parameters);

/// Client: the permessage-deflate offer for Sec-WebSocket-Extensions.
std::string formatDeflateOffer(const DeflateConfig& config);

struct DeflateAcceptance {
  std::optional<DeflateParameters> parameters;  // set when the answer is acceptable
  std::string error;                            // why not (the client fails with 1010)
};

/// Client: checks the server's answer to formatDeflateOffer(config): exactly one
/// permessage-deflate with known, unique, valid parameters, client_max_window_bits only if
/// we offered it, server_max_window_bits no larger than we asked for.
DeflateAcceptance acceptDeflateResponse(std::span<const ExtensionOffer> response,
                                        const DeflateConfig& config);

}  // namespace aerie::protocol
