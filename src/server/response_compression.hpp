// Content-Encoding for responses (as Aerys did it): gzip, or deflate for a client that takes
// only that, for compressible types (text/*, JSON, JavaScript, XML, SVG) of at least
// ServerOptions::compressionMinimumLength bytes, whole bodies and streamed ones alike.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace aerie::detail {

/// text/*, application/json, application/javascript, application/xml, *+json, *+xml,
/// image/svg+xml (parameters such as charset ignored).
bool compressibleType(std::string_view contentType);

/// "gzip", "deflate", or nullptr when Accept-Encoding allows neither.
const char* chooseContentEncoding(std::string_view acceptEncoding);

/// One response body's compressor (gzip or zlib-wrapped deflate, level 6).
class BodyCompressor {
 public:
  explicit BodyCompressor(const char* encoding);
  ~BodyCompressor();
  BodyCompressor(const BodyCompressor&) = delete;
  BodyCompressor& operator=(const BodyCompressor&) = delete;

  /// Appends the compressed form of `input` to `out`; a sync flush makes what was written
  /// so far decodable by the client at once (streams); `last` finishes the stream.
  bool compress(std::string_view input, bool last, std::string& out);

  /// A whole body, with a per-thread compressor reset between uses (no allocation of zlib
  /// state per response). False if zlib failed: send the body as it is.
  static bool compressWhole(const char* encoding, std::string_view body, std::string& out);

 private:
  struct Stream;
  std::unique_ptr<Stream> stream_;
};

}  // namespace aerie::detail
