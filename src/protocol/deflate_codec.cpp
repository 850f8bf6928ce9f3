#include "aerie/protocol/deflate_codec.hpp"

#include <sys/mman.h>
#include <zlib.h>

#include <algorithm>
#include <array>

#include "aerie/protocol/close_code.hpp"

namespace aerie::protocol {
namespace {

// The inflater's zlib state (~7 KiB) and window (up to 32 KiB) come straight from mmap, so
// that releasing an idle connection's inflater gives the pages back to the kernel: from
// malloc, thousands of freed 40 KiB blocks interleaved with live ones stayed in RSS
// (~9.6 KB per connection, bench/idle_deflate.py). A header before each block keeps its
// length for munmap.
constexpr std::size_t kMapHeader = 16;

voidpf mapAlloc(voidpf, uInt items, uInt size) {
  const std::size_t bytes = static_cast<std::size_t>(items) * size + kMapHeader;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return Z_NULL;
  *static_cast<std::size_t*>(p) = bytes;
  return static_cast<char*>(p) + kMapHeader;
}

void mapFree(voidpf, voidpf address) {
  if (address == Z_NULL) return;
  char* base = static_cast<char*>(address) - kMapHeader;
  ::munmap(base, *reinterpret_cast<std::size_t*>(base));
}

constexpr char kTail[4] = {0x00, 0x00, static_cast<char>(0xFF), static_cast<char>(0xFF)};
// zlib's raw deflate rejects an 8-bit window; inflating with 9 reads 8-bit streams too.
int zlibBits(int bits) {
  return std::clamp(bits, 9, 15);
}
}  // namespace

// ---- inflate ----------------------------------------------------------------------------

struct MessageInflater::Stream {
  z_stream z{};
  ~Stream() { inflateEnd(&z); }
};

MessageInflater::MessageInflater(int windowBits, bool noContextTakeover) noexcept
    : windowBits_(windowBits), noContextTakeover_(noContextTakeover) {}

MessageInflater::~MessageInflater() = default;

void MessageInflater::release() noexcept {
  stream_.reset();
}

ProtocolError MessageInflater::run(const char* data, std::size_t size, TransformOutput& out) {
  z_stream& z = stream_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  z.avail_in = static_cast<uInt>(size);
  std::array<char, 16 * 1024> buffer;
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(buffer.data());
    z.avail_out = static_cast<uInt>(buffer.size());
    const int status = inflate(&z, Z_SYNC_FLUSH);
    const std::size_t produced = buffer.size() - z.avail_out;
    if (produced != 0) {
      if (const ProtocolError error = out.write({buffer.data(), produced})) return error;
    }
    if (status == Z_STREAM_END) {
      // A final block: whatever follows starts a new stream.
      inflateReset(&z);
      if (z.avail_in == 0) return {};
      continue;
    }
    if (status == Z_BUF_ERROR) return {};  // no progress possible: all input used
    if (status != Z_OK) return {close_code::InvalidPayload, "invalid compressed data"};
    if (z.avail_in == 0 && z.avail_out != 0) return {};
  }
}

ProtocolError MessageInflater::transform(std::span<const char> in, bool fin, TransformOutput& out) {
  if (!stream_) {
    stream_ = std::make_unique<Stream>();
    stream_->z.zalloc = mapAlloc;
    stream_->z.zfree = mapFree;
    if (inflateInit2(&stream_->z, -zlibBits(windowBits_)) != Z_OK) {
      stream_.reset();
      return {close_code::InternalError, "cannot allocate the inflater"};
    }
  }
  if (!in.empty()) {
    if (const ProtocolError error = run(in.data(), in.size(), out)) return error;
  }
  if (fin) {
    if (const ProtocolError error = run(kTail, sizeof kTail, out)) return error;
    if (noContextTakeover_) inflateReset(&stream_->z);
  }
  return {};
}

// ---- deflate ----------------------------------------------------------------------------

struct MessageDeflater::Stream {
  z_stream z{};
  ~Stream() { deflateEnd(&z); }
};

MessageDeflater::MessageDeflater(int windowBits, bool noContextTakeover, int memLevel, int level,
                                 std::size_t threshold) noexcept
    : windowBits_(windowBits),
      noContextTakeover_(noContextTakeover),
      memLevel_(memLevel),
      level_(level),
      threshold_(threshold) {}

MessageDeflater::~MessageDeflater() = default;

void MessageDeflater::release() noexcept {
  stream_.reset();
}

bool MessageDeflater::deflateInto(std::span<const char> input, std::string& out) {
  if (!stream_) {
    stream_ = std::make_unique<Stream>();
    if (deflateInit2(&stream_->z, level_, Z_DEFLATED, -zlibBits(windowBits_), memLevel_,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      stream_.reset();
      return false;
    }
  }
  z_stream& z = stream_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  // Sync flush until all input is in and the output buffer was not filled up.
  do {
    const std::size_t chunk = std::max<std::size_t>(deflateBound(&z, z.avail_in) + 16, 4096);
    const std::size_t before = out.size();
    out.resize(before + chunk);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + before);
    z.avail_out = static_cast<uInt>(chunk);
    deflate(&z, Z_SYNC_FLUSH);
    out.resize(before + chunk - z.avail_out);
    if (z.avail_out != 0 && z.avail_in == 0) break;
  } while (true);
  return true;
}

namespace {
// Removes the sync flush's empty stored block from the end of out[start..] (RFC 7692 7.2.1).
bool stripTail(std::string& out, std::size_t start) {
  if (out.size() - start < 4 || out.compare(out.size() - 4, 4, kTail, 4) != 0) return false;
  out.resize(out.size() - 4);
  return true;
}
}  // namespace

bool MessageDeflater::compress(std::span<const char> message, std::string& out) {
  if (windowBits_ < 9 || message.size() < threshold_) return false;
  const std::size_t start = out.size();
  if (!deflateInto(message, out)) {
    out.resize(start);
    return false;
  }
  stripTail(out, start);
  const bool smaller = out.size() - start < message.size();
  if (noContextTakeover_) {
    deflateReset(&stream_->z);
    return smaller;  // nothing remembered: sending it plain instead is harmless
  }
  // With context takeover the peer must see every byte we fed the compressor, or later
  // back-references would point at history it does not have: keep the compressed form.
  return true;
}

bool MessageDeflater::compressFragment(std::span<const char> chunk, bool fin, std::string& out) {
  if (windowBits_ < 9) return false;
  // Every fragment ends with a sync flush, so the peer can inflate it at once; its empty
  // stored block (00 00 FF FF) is held back until we know more data follows, because the
  // message's last one must be left out (RFC 7692 7.2.1) and the peer adds it back.
  if (!chunk.empty()) {
    if (heldTail_) out.append(kTail, sizeof kTail);
    const std::size_t start = out.size();
    if (!deflateInto(chunk, out)) return false;
    heldTail_ = stripTail(out, start);
  }
  if (fin) {
    heldTail_ = false;
    if (noContextTakeover_ && stream_) deflateReset(&stream_->z);
  }
  return true;
}

MessageDeflater& MessageDeflater::sharedForThisThread(int windowBits) {
  // One per window size: recipients that agreed to a smaller window need their own.
  thread_local std::unique_ptr<MessageDeflater> deflaters[16];
  auto& deflater = deflaters[std::clamp(windowBits, 8, 15)];
  if (!deflater) deflater = std::make_unique<MessageDeflater>(windowBits, true, 8, 6, 0);
  return *deflater;
}

}  // namespace aerie::protocol
