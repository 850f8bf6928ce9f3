#include "net/loop.hpp"

namespace aerie::net {
namespace {
thread_local Loop* currentLoop = nullptr;
}

Loop::Loop(unsigned index)
    : index_(index), receiveBuffer_(std::make_unique_for_overwrite<char[]>(kReceiveBufferSize)) {}

Loop::~Loop() {
  if (currentLoop == this) currentLoop = nullptr;
}

Loop* Loop::current() noexcept { return currentLoop; }

void Loop::makeCurrent() noexcept { currentLoop = this; }

void Loop::run() {
  makeCurrent();
  io_.run();
}

}  // namespace aerie::net
