// net::Transport's output buffer over a socketpair: what an idle connection keeps of it
// (issue 10: memory per idle connection). A drained buffer is freed on request (a WebSocket
// right after its 101) and by trimIdle() after a tick without writes; a buffer with bytes
// still queued, or one written to since the last tick, is kept.
#include "net/transport.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace aerie::net {
namespace {

class TransportPair : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds_), 0);
    transport_ = std::make_unique<Transport>(fds_[0]);
  }
  void TearDown() override {
    transport_.reset();
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  std::string readPeer() {
    std::string got(1 << 16, '\0');
    const ssize_t n = ::recv(fds_[1], got.data(), got.size(), 0);
    got.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return got;
  }
  // Larger than the short-string buffer, as a 101 response is.
  const std::string response_ = std::string(129, 'h');
  int fds_[2] = {-1, -1};
  std::unique_ptr<Transport> transport_;
};

TEST_F(TransportPair, TrimIdleFreesOnlyAfterATickWithoutWrites) {
  transport_->output() += response_;
  ASSERT_EQ(transport_->flush(), SendEnd::Done);
  transport_->trimIdle();  // written to since the last tick: busy, kept
  EXPECT_GE(transport_->output().capacity(), response_.size());
  transport_->trimIdle();  // a whole tick without writes: idle, freed
  EXPECT_EQ(transport_->output().capacity(), std::string().capacity());
  EXPECT_EQ(readPeer(), response_);
  // Usable again afterwards.
  transport_->output() += "after";
  ASSERT_EQ(transport_->flush(), SendEnd::Done);
  EXPECT_EQ(readPeer(), "after");
}

TEST_F(TransportPair, TrimIdleKeepsBytesTheKernelHasNotTaken) {
  // Fill the socket until the kernel refuses more: the rest must stay queued.
  const std::string chunk(1 << 20, 'x');
  SendEnd end = SendEnd::Done;
  for (int i = 0; i < 64 && end == SendEnd::Done; ++i) {
    transport_->output() += chunk;
    end = transport_->flush();
  }
  ASSERT_EQ(end, SendEnd::WaitWritable);
  const std::size_t queued = transport_->buffered();
  ASSERT_GT(queued, 0u);
  transport_->trimIdle();
  transport_->trimIdle();
  EXPECT_EQ(transport_->buffered(), queued);
}

}  // namespace
}  // namespace aerie::net
