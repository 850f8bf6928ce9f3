// What `aerie-cat` was asked to do, as parsed from its command line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aerie/client/connect_options.hpp"
#include "aerie/client/options.hpp"

namespace aerie::cat {

struct CatOptions {
  std::string url;
  /// Extra handshake headers (-H 'Name: value'), in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> subprotocols;
  std::string origin;
  /// Seconds between the pings we send; 0 = none (the client's own heartbeat still runs).
  double pingIntervalSeconds = 0;
  bool binaryInput = false;  // stdin lines go out as binary messages
  bool binaryHex = false;    // received binary messages are printed as hex
  bool showClose = false;
  bool echo = false;
  bool verbose = false;
  client::ConnectOptions connect;
  client::Options client;
};

/// Splits "Name: value" at its first colon, trimming blanks around both parts. Nothing when
/// the name is empty or holds characters an HTTP field name may not (RFC 9110 token).
std::optional<std::pair<std::string, std::string>> parseHeader(std::string_view spec);

}  // namespace aerie::cat
