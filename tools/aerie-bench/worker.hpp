// One load thread: an epoll loop over raw non-blocking sockets driving its share of the
// connections. Frames are built with the sans-IO protocol library (header encoder, SIMD
// masking, accept key) straight into a per-connection output queue, and everything one
// wake-up produces for a connection leaves in one send(); reads land in one per-thread
// buffer and are parsed in place (only a partial frame is copied aside).
#pragma once

#include <sys/socket.h>

#include <aerie/protocol/frame_header.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "histogram.hpp"
#include "options.hpp"
#include "output_queue.hpp"
#include "shared_state.hpp"

namespace aerie::bench {

/// Sequence number 0 as the 8 payload characters it travels as ("00000000"), one word.
inline constexpr std::uint64_t kFirstSeqWord = 0x3030303030303030;

struct WorkerResult {
  std::uint64_t messages = 0;   // echoes / deliveries / handshakes in the measured window
  std::uint64_t bytes = 0;      // payload bytes of those messages
  std::uint64_t sent = 0;       // messages whose (scheduled) send time is in the window
  std::uint64_t connected = 0;  // connections that completed the handshake (setup)
  Histogram latency;            // the measured window
};

class Worker {
 public:
  /// `ids`: the global connection numbers this thread drives (broadcast: ids below
  /// --publishers are the publishers).
  Worker(const Options& options, SharedState& shared, std::vector<int> ids, int threadIndex);
  WorkerResult run();

 private:
  enum class State : std::uint8_t { Unused, Connecting, Handshake, Open, Closing, Closed };

  struct Conn {
    int fd = -1;
    State state = State::Unused;
    bool publisher = false;
    bool closeReceived = false;
    bool inMessage = false;  // a fragmented message is being reassembled
    bool dirty = false;      // has output queued this wake-up
    std::uint8_t fragmentOpcode = 0;
    int id = 0;
    std::int64_t connectStartNs = 0;
    std::string expectedAccept;
    std::string in;   // bytes of a partial frame kept between reads
    OutputQueue out;  // bytes queued for send()
    std::string fragments;
    // Sequence numbers travel as 8 payload characters (6 bits each); the words hold those
    // characters for the next message sent and the next echo expected.
    std::uint64_t sendSeqWord = kFirstSeqWord;
    std::uint64_t recvSeqWord = kFirstSeqWord;
    std::uint32_t sendPhase = 0;  // (messages sent) % period_, kept without a division
    std::uint32_t recvPhase = 0;  // (echoes received) % period_
    // Ring (power-of-two size): the (intended) send time of each unanswered echo.
    std::vector<std::int64_t> sentAt;
    std::size_t sentHead = 0;
    std::size_t sentCount = 0;
    std::vector<std::uint64_t> nextSeqFrom;  // broadcast receiver: next seq per publisher
  };

  // connection lifecycle
  bool resolve();
  void startConnecting(Conn& c);
  void startPending();
  void fail(Conn& c, const std::string& why, int err = 0);
  void finishClose(Conn& c);
  void beginClose(Conn& c);
  void onEvent(Conn& c, std::uint32_t events);
  void onConnected(Conn& c);
  void onHandshakeData(Conn& c);
  void onOpened(Conn& c);
  // data path
  void onReadable(Conn& c);
  bool consume(Conn& c, const char* data, std::size_t size);
  long parse(Conn& c, const char* p, std::size_t n);
  bool onFrame(Conn& c, const protocol::FrameHeader& h, const char* p, std::size_t n);
  bool onMessage(Conn& c, std::uint8_t opcode, const char* p, std::size_t n);
  bool checkEcho(Conn& c, const char* p, std::size_t n);
  bool checkDelivery(Conn& c, const char* p, std::size_t n);
  void queueMessage(Conn& c, std::int64_t intendedNs);
  void markDirty(Conn& c);
  void flushDirty();
  bool flush(Conn& c);
  void poll(std::int64_t timeoutNs);
  // pacing and bookkeeping
  void sendDue();
  void record(std::int64_t latencyNs, std::size_t bytes);
  void publishSeconds();
  /// Moves this second's in-window latencies into the result and the second's histogram.
  void takeWindowLatencies();
  void drainAndClose();
  protocol::MaskKey nextMaskKey();
  bool inWindow() const { return now_ >= warmEndNs_ && now_ < endNs_; }

  const Options& opt_;
  SharedState& shared_;
  int threadIndex_;
  int epoll_ = -1;
  sockaddr_storage addr_{};
  socklen_t addrLen_ = 0;
  std::vector<Conn> conns_;
  std::vector<Conn*> senders_;  // open loop: connections the schedule sends on
  std::vector<Conn*> dirty_;
  std::vector<Conn*> restartQueue_;  // connect mode: slots to start again
  std::vector<char> readBuffer_ = std::vector<char>(256 * 1024);
  std::string pattern_;  // payload filler; message `seq` uses it from offset seq % period_
  std::size_t period_ = 26;
  std::size_t headerSize_ = 8;
  protocol::Opcode opcode_ = protocol::Opcode::Text;
  std::uint64_t maskState_ = 0;  // xorshift state for the mask keys

  std::int64_t now_ = 0;
  std::int64_t startNs_ = 0, warmEndNs_ = 0, endNs_ = 0;
  std::int64_t nextTickNs_ = 0;
  std::size_t tick_ = 0;
  bool sending_ = false;  // load phase: closed loop replaces echoes, open loop follows the schedule
  bool restarting_ = false;  // connect mode: a finished connection starts the next one
  double intervalNs_ = 0;    // open loop: time between scheduled sends on this thread
  std::int64_t scheduleStartNs_ = 0;
  std::uint64_t scheduled_ = 0;
  std::size_t nextSender_ = 0;
  std::size_t started_ = 0, pending_ = 0, open_ = 0;
  std::uint64_t outstanding_ = 0;  // echoes not yet back, all connections

  WorkerResult result_;
  std::uint64_t tickMessages_ = 0, tickBytes_ = 0;
  Histogram tickLatency_;        // this second: outside the measured window (all, once merged)
  Histogram windowTickLatency_;  // this second: inside it
};

}  // namespace aerie::bench
