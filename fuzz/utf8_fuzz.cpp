// Differential fuzzing of the UTF-8 validator: the fast validator (ASCII vector path +
// shift DFA) must agree with the byte-at-a-time reference DFA on every input, and the
// streaming validator must give the same verdict however the input is split, failing in
// the first chunk that holds an offending byte and in every chunk after it.
//
// The first input byte seeds the chunk sizes (it is also validated, as part of the
// text), so the fuzzer explores splits and contents together.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "aerie/protocol/utf8.hpp"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aerie::protocol;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const bool expected = isValidUtf8Reference(text);
  check(isValidUtf8(text) == expected);

  // Whole input in one feed: a false return means "invalid", never "incomplete".
  {
    Utf8Validator v;
    const bool ok = v.feed(text);
    check(ok == !v.failed());
    check(v.isComplete() == expected);
    if (expected) check(ok);
  }

  // Chunks of 1..64 bytes from a small LCG seeded by the first byte; 0-byte feeds too.
  std::uint32_t seed = size == 0 ? 1 : data[0] + 1u;
  Utf8Validator v;
  bool failedBefore = false;
  std::size_t pos = 0;
  while (pos < size) {
    seed = seed * 1664525u + 1013904223u;
    std::size_t len = (seed >> 24) % 65;
    if (len > size - pos) len = size - pos;
    const bool ok = v.feed(text.substr(pos, len));
    if (failedBefore) check(!ok);  // failure is sticky
    // A failing chunk must hold the offending byte: everything before it was viable.
    if (!ok && !failedBefore) {
      Utf8Validator prefix;
      check(prefix.feed(text.substr(0, pos)));
    }
    failedBefore = !ok;
    pos += len;
  }
  check(v.isComplete() == expected);
  check(v.failed() == failedBefore);
  if (expected) check(!failedBefore);

  // Byte by byte agrees with the chunked verdict.
  Utf8Validator bytewise;
  bool allOk = true;
  for (std::size_t i = 0; i < size; ++i)
    allOk = bytewise.feed(text.substr(i, 1)) && allOk;
  check(allOk == !failedBefore);
  check(bytewise.isComplete() == expected);
  return 0;
}
