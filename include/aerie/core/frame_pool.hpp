// A per-thread free list for coroutine frames.
//
// Every handler callback (onData, onOpen...) is a coroutine, so a server echoing small
// messages would otherwise pay one malloc/free pair per message for the frame. Frames of
// a given size class are recycled on the thread that frees them (which is almost always
// the thread that allocated them: a connection lives on one thread).
#pragma once

#include <cstddef>

namespace aerie::detail {

void* allocateFrame(std::size_t size);
void deallocateFrame(void* frame, std::size_t size) noexcept;

}  // namespace aerie::detail
