// Whole-message payload transforms: the seam for extensions that rewrite message payloads,
// i.e. permessage-deflate (RFC 7692). The codec knows nothing about compression; it only
// routes the payload of messages flagged RSV1 through these interfaces.
#pragma once

#include <span>
#include <string>

#include "aerie/protocol/error.hpp"

namespace aerie::protocol {

/// Where an inbound transform writes what it produces. The parser's implementation applies
/// the maximum message size and UTF-8 validation to these bytes and hands them to its sink.
class TransformOutput {
 public:
  virtual ~TransformOutput() = default;

  /// Takes the next produced bytes (valid only during the call). Returns an error (1009,
  /// 1007) when they break a limit: the transform must then stop and return that error.
  virtual ProtocolError write(std::span<const char> data) = 0;
};

/// Inbound transform (e.g. inflate), applied by the parser to every message whose first
/// frame had RSV1 set. One instance serves one connection, one message at a time.
class PayloadTransform {
 public:
  virtual ~PayloadTransform() = default;

  /// Transforms the next `in` bytes of the current message's wire payload (unmasked, any
  /// size, possibly empty) and writes the result to `out` in any number of write() calls.
  /// `fin` marks the message's last bytes: flush everything, then be ready for the next
  /// message. Returns the first error out.write() returned, or its own (e.g. 1007 for a
  /// corrupt stream, 1009 for a decompression bomb it detects itself).
  virtual ProtocolError transform(std::span<const char> in, bool fin, TransformOutput& out) = 0;
};

/// Outbound transform (e.g. deflate), used by the frame writer on whole messages.
class PayloadCompressor {
 public:
  virtual ~PayloadCompressor() = default;

  /// Appends the transformed form of the whole `message` to `out`. Returns false when it
  /// declines (e.g. the result would not be smaller): the writer then discards whatever was
  /// appended and sends the message untransformed, with RSV1 clear.
  virtual bool compress(std::span<const char> message, std::string& out) = 0;
};

}  // namespace aerie::protocol
