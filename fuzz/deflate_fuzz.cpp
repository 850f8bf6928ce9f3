// libFuzzer target for permessage-deflate's codec (protocol/deflate_codec.hpp).
//
// Byte 0: window bits (8..15), context takeover, mode; byte 1: split size. Mode A treats
// the rest as compressed wire data of two messages: inflating must stop at the output
// limit with 1009, fail with 1007 on corrupt data, and never crash. Mode B compresses the
// rest as a message twice and inflates it back: the round trip must be exact.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "aerie/protocol/close_code.hpp"
#include "aerie/protocol/deflate_codec.hpp"

#define FUZZ_CHECK(condition)           \
  do {                                  \
    if (!(condition)) __builtin_trap(); \
  } while (0)

namespace {

using namespace aerie::protocol;

constexpr std::size_t kLimit = 64 * 1024;

class LimitedOutput final : public TransformOutput {
 public:
  std::string data;
  ProtocolError write(std::span<const char> bytes) override {
    if (data.size() + bytes.size() > kLimit) return {close_code::MessageTooBig, "too big"};
    data.append(bytes.data(), bytes.size());
    return {};
  }
};

ProtocolError inflateMessage(MessageInflater& inflater, std::string_view wire, std::size_t step,
                             LimitedOutput& out) {
  for (std::size_t offset = 0; offset < wire.size(); offset += step) {
    const std::string_view chunk = wire.substr(offset, step);
    if (const ProtocolError e = inflater.transform({chunk.data(), chunk.size()}, false, out)) {
      return e;
    }
  }
  return inflater.transform({}, true, out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int bits = 8 + (data[0] & 7);
  const bool noContext = (data[0] & 8) != 0;
  const bool roundTrip = (data[0] & 16) != 0;
  const std::size_t step = 1 + data[1] % 97;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  MessageInflater inflater(bits, noContext);
  if (!roundTrip) {
    for (int message = 0; message < 2; ++message) {
      LimitedOutput out;
      const ProtocolError e = inflateMessage(inflater, rest, step, out);
      FUZZ_CHECK(out.data.size() <= kLimit);
      if (e) {
        FUZZ_CHECK(e.closeCode == close_code::MessageTooBig ||
                   e.closeCode == close_code::InvalidPayload);
        break;
      }
    }
    return 0;
  }
  if (rest.size() > kLimit) return 0;
  MessageDeflater deflater(bits, noContext, 8, 6, 0);
  for (int message = 0; message < 2; ++message) {
    std::string wire;
    const bool compressed = deflater.compress({rest.data(), rest.size()}, wire);
    if (!compressed) continue;  // sent uncompressed: nothing to inflate
    LimitedOutput out;
    FUZZ_CHECK(!inflateMessage(inflater, wire, step, out));
    FUZZ_CHECK(out.data == rest);
  }
  return 0;
}
