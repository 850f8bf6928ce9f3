// The parser settings both ends derive from their options (ws::Options on the server,
// client::Options on the client: the same field names, so one template).
#pragma once

#include "aerie/protocol/parser.hpp"

namespace aerie::protocol {

template <class EndpointOptions>
ParserOptions parserOptionsFor(const EndpointOptions& options, Role role, bool deflate) {
  ParserOptions parser;
  parser.role = role;
  parser.maxFrameSize = options.maxFrameSize;
  parser.maxMessageSize = options.maxMessageSize;
  parser.validateUtf8 = options.validateUtf8;
  parser.textOnly = options.textOnly;
  parser.rsv1Allowed = deflate;  // RSV1 marks a compressed message (RFC 7692)
  return parser;
}

}  // namespace aerie::protocol
