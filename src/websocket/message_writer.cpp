#include <atomic>
#include <stdexcept>
#include <utility>

#include "aerie/websocket/endpoint.hpp"

namespace aerie::ws {
namespace {
std::atomic<std::uint64_t> nextStream{1};
}

MessageWriter::MessageWriter(Endpoint& endpoint, ClientId client, bool binary) noexcept
    : endpoint_(&endpoint),
      client_(client),
      stream_(nextStream.fetch_add(1, std::memory_order_relaxed)),
      binary_(binary) {}

MessageWriter::MessageWriter(MessageWriter&& other) noexcept
    : endpoint_(std::exchange(other.endpoint_, nullptr)),
      client_(other.client_),
      stream_(other.stream_),
      binary_(other.binary_),
      started_(other.started_),
      ended_(other.ended_),
      utf8_(other.utf8_) {}

MessageWriter::~MessageWriter() {
  if (endpoint_ == nullptr || !started_ || ended_) return;
  try {
    (void)fragment({}, true);
  } catch (...) {  // text cut inside a character: the client will fail it with 1007
  }
}

SendAwaitable MessageWriter::write(std::string chunk) {
  if (ended_) throw std::logic_error("MessageWriter::write() after end()");
  return fragment(std::move(chunk), false);
}

SendAwaitable MessageWriter::end(std::string lastChunk) {
  if (ended_) throw std::logic_error("MessageWriter::end() called twice");
  return fragment(std::move(lastChunk), true);
}

SendAwaitable MessageWriter::fragment(std::string chunk, bool fin) {
  if (!binary_) {
    protocol::Utf8Validator next = utf8_;
    if (!next.feed(chunk) || (fin && !next.isComplete())) {
      throw std::invalid_argument("stream(): the text is not valid UTF-8; the chunk was not sent");
    }
    utf8_ = next;
  }
  const bool first = !started_;
  started_ = true;
  ended_ = fin;
  return endpoint_->sendFragment(client_, stream_, binary_, first, fin, std::move(chunk));
}

}  // namespace aerie::ws
