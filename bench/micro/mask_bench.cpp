// Unmasking throughput against memcpy of the same size: memcpy is the floor any pass over
// the payload pays, so the ratio shows what the XOR costs on top of moving the bytes.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "aerie/protocol/mask.hpp"

namespace {

void BM_Mask(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::vector<char> data(size, 'x');
  const aerie::protocol::MaskKey key = {0x37, 0xFA, 0x21, 0x3D};
  for (auto _ : state) {
    benchmark::DoNotOptimize(data.data());
    std::size_t next = aerie::protocol::applyMask(data.data(), size, key, 0);
    benchmark::DoNotOptimize(next);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(size));
}

void BM_MaskCopy(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::vector<char> in(size, 'x');
  std::vector<char> out(size);
  const aerie::protocol::MaskKey key = {0x37, 0xFA, 0x21, 0x3D};
  for (auto _ : state) {
    benchmark::DoNotOptimize(in.data());
    std::size_t next = aerie::protocol::applyMaskCopy(out.data(), in.data(), size, key, 1);
    benchmark::DoNotOptimize(next);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(size));
}

void BM_Memcpy(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::vector<char> in(size, 'x');
  std::vector<char> out(size);
  for (auto _ : state) {
    benchmark::DoNotOptimize(in.data());
    std::memcpy(out.data(), in.data(), size);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(size));
}

BENCHMARK(BM_Mask)->Arg(16)->Arg(1024)->Arg(64 * 1024);
BENCHMARK(BM_MaskCopy)->Arg(16)->Arg(1024)->Arg(64 * 1024);
BENCHMARK(BM_Memcpy)->Arg(16)->Arg(1024)->Arg(64 * 1024);

}  // namespace
