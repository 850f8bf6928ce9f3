#include "aerie/protocol/permessage_deflate.hpp"

#include <algorithm>

namespace aerie::protocol {
namespace {

constexpr std::string_view kName = "permessage-deflate";

struct Parsed {
  bool serverNoContextTakeover = false;
  bool clientNoContextTakeover = false;
  std::optional<int> serverMaxWindowBits;
  bool clientMaxWindowBitsPresent = false;
  std::optional<int> clientMaxWindowBits;
};

/// RFC 7692 7.1.2: 1*DIGIT without leading zeros, 8..15.
std::optional<int> windowBits(const std::optional<std::string>& value) {
  if (!value || value->empty() || value->size() > 2 || (*value)[0] == '0') return std::nullopt;
  int bits = 0;
  for (const char c : *value) {
    if (c < '0' || c > '9') return std::nullopt;
    bits = bits * 10 + (c - '0');
  }
  if (bits < 8 || bits > 15) return std::nullopt;
  return bits;
}

/// The parameters of one offer (or the response). Unknown, duplicate or malformed
/// parameters make the whole offer unacceptable (RFC 7692 7: "declines").
std::optional<Parsed> parse(const ExtensionOffer& offer, bool response, std::string& error) {
  Parsed p;
  bool seenServerBits = false;
  for (const ExtensionParam& param : offer.params) {
    auto duplicate = [&] {
      error = "duplicate parameter " + param.name;
      return std::nullopt;
    };
    if (param.name == "server_no_context_takeover" || param.name == "client_no_context_takeover") {
      if (param.value) {
        error = param.name + " takes no value";
        return std::nullopt;
      }
      bool& flag = param.name[0] == 's' ? p.serverNoContextTakeover : p.clientNoContextTakeover;
      if (flag) return duplicate();
      flag = true;
    } else if (param.name == "server_max_window_bits") {
      if (seenServerBits) return duplicate();
      seenServerBits = true;
      p.serverMaxWindowBits = windowBits(param.value);
      if (!p.serverMaxWindowBits) {
        error = "server_max_window_bits needs a value from 8 to 15";
        return std::nullopt;
      }
    } else if (param.name == "client_max_window_bits") {
      if (p.clientMaxWindowBitsPresent) return duplicate();
      p.clientMaxWindowBitsPresent = true;
      if (param.value || response) {  // the offer may leave it bare; the answer may not
        p.clientMaxWindowBits = windowBits(param.value);
        if (!p.clientMaxWindowBits) {
          error = "client_max_window_bits needs a value from 8 to 15";
          return std::nullopt;
        }
      }
    } else {
      error = "unknown parameter " + param.name;
      return std::nullopt;
    }
  }
  return p;
}

int clampBits(int bits) {
  return std::clamp(bits, 8, 15);
}

std::string format(const DeflateParameters& p, bool withServerBits, bool withClientBits) {
  std::string out(kName);
  if (p.serverNoContextTakeover) out += "; server_no_context_takeover";
  if (p.clientNoContextTakeover) out += "; client_no_context_takeover";
  if (withServerBits) out += "; server_max_window_bits=" + std::to_string(p.serverMaxWindowBits);
  if (withClientBits) out += "; client_max_window_bits=" + std::to_string(p.clientMaxWindowBits);
  return out;
}

}  // namespace

std::optional<DeflateAgreement> negotiateDeflate(std::span<const ExtensionOffer> offers,
                                                 const DeflateConfig& config) {
  for (const ExtensionOffer& offer : offers) {
    if (offer.name != kName) continue;
    std::string ignored;
    const std::optional<Parsed> p = parse(offer, false, ignored);
    if (!p) continue;
    DeflateParameters agreed;
    agreed.serverNoContextTakeover = p->serverNoContextTakeover || config.serverNoContextTakeover;
    agreed.clientNoContextTakeover = p->clientNoContextTakeover || config.clientNoContextTakeover;
    // Our window: what the client asked for, never more than we allow.
    const int ours = clampBits(config.serverMaxWindowBits);
    agreed.serverMaxWindowBits = std::min(p->serverMaxWindowBits.value_or(15), ours);
    const bool sayServerBits = p->serverMaxWindowBits.has_value() || ours < 15;
    // The client's window can only be limited if it said it supports the parameter.
    bool sayClientBits = false;
    if (p->clientMaxWindowBitsPresent) {
      agreed.clientMaxWindowBits =
          std::min(p->clientMaxWindowBits.value_or(15), clampBits(config.clientMaxWindowBits));
      sayClientBits = agreed.clientMaxWindowBits < 15 || p->clientMaxWindowBits.has_value();
    }
    return DeflateAgreement{agreed, format(agreed, sayServerBits, sayClientBits)};
  }
  return std::nullopt;
}

std::string formatDeflateParameters(const DeflateParameters& parameters) {
  std::string out(kName);
  if (parameters.serverNoContextTakeover) out += "; server_no_context_takeover";
  if (parameters.clientNoContextTakeover) out += "; client_no_context_takeover";
  out += "; server_max_window_bits=" + std::to_string(parameters.serverMaxWindowBits);
  out += "; client_max_window_bits=" + std::to_string(parameters.clientMaxWindowBits);
  return out;
}

std::string formatDeflateOffer(const DeflateConfig& config) {
  std::string out(kName);
  if (config.serverNoContextTakeover) out += "; server_no_context_takeover";
  if (config.clientNoContextTakeover) out += "; client_no_context_takeover";
  const int serverBits = clampBits(config.serverMaxWindowBits);
  if (serverBits < 15) out += "; server_max_window_bits=" + std::to_string(serverBits);
  // zlib's raw deflate cannot use an 8-bit window: offer what we will really use.
  const int clientBits = std::max(clampBits(config.clientMaxWindowBits), 9);
  out += "; client_max_window_bits";
  if (clientBits < 15) out += "=" + std::to_string(clientBits);
  return out;
}

DeflateAcceptance acceptDeflateResponse(std::span<const ExtensionOffer> response,
                                        const DeflateConfig& config) {
  DeflateAcceptance result;
  if (response.size() != 1 || response[0].name != kName) {
    for (const ExtensionOffer& e : response) {
      if (e.name != kName) {
        result.error = "the server chose extension " + e.name + ", which was not offered";
        return result;
      }
    }
    result.error = "the server answered with permessage-deflate more than once";
    return result;
  }
  std::string error;
  const std::optional<Parsed> p = parse(response[0], true, error);
  if (!p) {
    result.error = "invalid permessage-deflate answer: " + error;
    return result;
  }
  const int askedServerBits = clampBits(config.serverMaxWindowBits);
  if (p->serverMaxWindowBits && *p->serverMaxWindowBits > askedServerBits) {
    result.error = "server_max_window_bits=" + std::to_string(*p->serverMaxWindowBits) +
                   " is larger than the " + std::to_string(askedServerBits) + " asked for";
    return result;
  }
  if (config.serverNoContextTakeover && !p->serverNoContextTakeover) {
    result.error = "the server dropped the server_no_context_takeover we asked for";
    return result;
  }
  const int offeredClientBits = std::max(clampBits(config.clientMaxWindowBits), 9);
  if (p->clientMaxWindowBits && *p->clientMaxWindowBits > offeredClientBits) {
    result.error = "client_max_window_bits=" + std::to_string(*p->clientMaxWindowBits) +
                   " is larger than the " + std::to_string(offeredClientBits) + " offered";
    return result;
  }
  DeflateParameters agreed;
  agreed.serverNoContextTakeover = p->serverNoContextTakeover;
  agreed.clientNoContextTakeover = p->clientNoContextTakeover || config.clientNoContextTakeover;
  agreed.serverMaxWindowBits = p->serverMaxWindowBits.value_or(15);
  agreed.clientMaxWindowBits = p->clientMaxWindowBits.value_or(offeredClientBits);
  result.parameters = agreed;
  return result;
}

}  // namespace aerie::protocol
