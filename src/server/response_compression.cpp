#include "server/response_compression.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "aerie/http/static_file_rules.hpp"

namespace aerie::detail {
namespace {

int windowBitsFor(const char* encoding) {
  return std::strcmp(encoding, "gzip") == 0 ? 15 + 16 : 15;  // +16: gzip wrapper
}

}  // namespace

bool compressibleType(std::string_view contentType) {
  return http::isTextualType(contentType);
}

const char* chooseContentEncoding(std::string_view acceptEncoding) {
  if (acceptEncoding.empty()) return nullptr;
  if (http::acceptsEncoding(acceptEncoding, "gzip")) return "gzip";
  if (http::acceptsEncoding(acceptEncoding, "deflate")) return "deflate";
  return nullptr;
}

struct BodyCompressor::Stream {
  z_stream z{};
  bool ready = false;
  ~Stream() {
    if (ready) deflateEnd(&z);
  }
};

BodyCompressor::BodyCompressor(const char* encoding) : stream_(std::make_unique<Stream>()) {
  stream_->ready = deflateInit2(&stream_->z, 6, Z_DEFLATED, windowBitsFor(encoding), 8,
                                Z_DEFAULT_STRATEGY) == Z_OK;
}

BodyCompressor::~BodyCompressor() = default;

bool BodyCompressor::compress(std::string_view input, bool last, std::string& out) {
  if (!stream_->ready) return false;
  z_stream& z = stream_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  const int flush = last ? Z_FINISH : Z_SYNC_FLUSH;
  while (true) {
    const std::size_t room = std::max<std::size_t>(deflateBound(&z, z.avail_in) + 64, 4096);
    const std::size_t before = out.size();
    out.resize(before + room);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + before);
    z.avail_out = static_cast<uInt>(room);
    const int status = deflate(&z, flush);
    out.resize(before + room - z.avail_out);
    if (status == Z_STREAM_ERROR) return false;
    if (last ? status == Z_STREAM_END : (z.avail_in == 0 && z.avail_out != 0)) return true;
  }
}

bool BodyCompressor::compressWhole(const char* encoding, std::string_view body, std::string& out) {
  // One per thread and encoding, reset after each body: zlib's state (~256 KiB) is set up
  // once, not per response.
  thread_local std::unique_ptr<BodyCompressor> gzip;
  thread_local std::unique_ptr<BodyCompressor> deflate;
  auto& compressor = std::strcmp(encoding, "gzip") == 0 ? gzip : deflate;
  if (!compressor) compressor = std::make_unique<BodyCompressor>(encoding);
  const bool ok = compressor->compress(body, true, out);
  deflateReset(&compressor->stream_->z);
  return ok;
}

}  // namespace aerie::detail
