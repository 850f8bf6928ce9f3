// The header rules static files follow, sans-IO: byte ranges (RFC 9110 14), conditional
// requests (RFC 9110 13: If-None-Match, If-Modified-Since, If-Range) and content-coding
// negotiation (RFC 9110 12.5.3, Accept-Encoding with q-values).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string_view>

namespace aerie::http {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::uint64_t length() const noexcept { return last - first + 1; }
};

struct RangeRequest {
  enum class Kind {
    Whole,          // no Range header, not "bytes=", malformed, or several ranges: 200
    Single,         // one satisfiable range: 206 with Content-Range
    Unsatisfiable,  // syntactically valid, none overlaps the file: 416 "bytes */size"
  };
  Kind kind = Kind::Whole;
  ByteRange range;
};

/// Interprets a Range header for a representation of `size` bytes. Several ranges are
/// answered with the whole file (RFC 9110 allows ignoring Range; it avoids multipart
/// responses and their amplification).
RangeRequest parseRange(std::string_view header, std::uint64_t size);

/// If-None-Match: "*" or a list of entity tags, compared weakly (W/"x" matches "x").
bool ifNoneMatchMatches(std::string_view header, std::string_view etag);

/// True when `coding` ("br", "gzip") is acceptable with q > 0, directly or through "*"
/// (an explicit "coding;q=0" refuses it even when "*" is allowed).
bool acceptsEncoding(std::string_view acceptEncoding, std::string_view coding);

/// Media types whose content is text: text/*, application/json, application/javascript,
/// application/xml, image/svg+xml, *+json, *+xml (parameters and case ignored). root()
/// labels them charset=utf-8 and response compression compresses them.
bool isTextualType(std::string_view contentType) noexcept;

}  // namespace aerie::http
