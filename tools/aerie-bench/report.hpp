// aerie-bench's outputs: the progress line, the text summary, --json and --svg.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "histogram.hpp"
#include "options.hpp"

namespace aerie::bench {

struct SecondPoint {
  double messagesPerSecond = 0;
  double megabytesPerSecond = 0;
  double p50Us = 0;
  double p99Us = 0;
  bool warmup = false;
};

struct RunReport {
  const Options* options = nullptr;
  double seconds = 0;          // measured window
  std::uint64_t messages = 0;  // echoes / deliveries / handshakes in the window
  std::uint64_t bytes = 0;     // their payload bytes
  std::uint64_t sent = 0;      // messages sent in the window
  std::uint64_t errors = 0;
  std::uint64_t connected = 0;  // connections up after setup (connect mode: 0)
  Histogram latency;
  std::vector<SecondPoint> perSecond;
  double clientCpuSeconds = -1;    // in the window
  double machineBusySeconds = -1;  // in the window, all cores
  double serverCpuSeconds = -1;    // in the window, --server-pid
  long serverRssBeforeKib = -1;    // before connecting
  long serverRssAfterKib = -1;     // at the end of the window, connections still open

  double messagesPerSecond() const { return seconds > 0 ? double(messages) / seconds : 0; }
  double megabytesPerSecond() const { return seconds > 0 ? double(bytes) / seconds / 1e6 : 0; }
};

/// "  3s  123,456 msg/s  2.47 MB/s  p50 45.1 us  p99 120 us  conns 100  errors 0"
void printProgress(std::FILE* out, std::size_t second, const SecondPoint& point,
                   long long openConnections, unsigned long long errors, const char* unit);
void printSummary(std::FILE* out, const RunReport& report);
void printJson(std::FILE* out, const RunReport& report);
/// False (with errno set by the failing stdio call) if the file cannot be written.
bool writeSvg(const std::string& path, const RunReport& report);

/// What one message is in each mode: "echoes", "deliveries", "handshakes".
const char* messageNoun(Mode mode);

}  // namespace aerie::bench
