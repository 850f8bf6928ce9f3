#include "output.hpp"

#include <cstdio>

namespace aerie::cat {

std::string describeMessage(std::string_view payload, bool binary, bool hex) {
  if (!binary) return std::string(payload);
  if (!hex) return "<binary " + std::to_string(payload.size()) + " bytes>";
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(payload.size() * 2);
  for (const char c : payload) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0x0f]);
  }
  return out;
}

std::string describeClose(std::uint16_t code, std::string_view reason) {
  std::string out = std::to_string(code);
  if (!reason.empty()) {
    out += ' ';
    out += reason;
  }
  return out;
}

bool isNormalClose(std::uint16_t code) {
  return code == 1000 || code == 1001 || code == 1005;
}

void printLine(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace aerie::cat
