#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace aerie::bench {
namespace {

constexpr double kQuantiles[] = {0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 0.99999, 1.0};

double us(std::int64_t ns) {
  return double(ns) / 1000.0;
}

std::string withCommas(double value) {
  std::string digits = std::to_string(static_cast<long long>(std::llround(value)));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ',';
    out += digits[i];
  }
  return out;
}

std::string latency(double micros) {
  char buf[32];
  if (micros < 100)
    std::snprintf(buf, sizeof buf, "%.1f us", micros);
  else if (micros < 100'000)
    std::snprintf(buf, sizeof buf, "%.0f us", micros);
  else
    std::snprintf(buf, sizeof buf, "%.1f ms", micros / 1000);
  return buf;
}

std::string quantileName(double q) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "p%g", q * 100);
  std::string name = buf;
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

}  // namespace

const char* messageNoun(Mode mode) {
  switch (mode) {
    case Mode::Echo:
      return "echoes";
    case Mode::Broadcast:
      return "deliveries";
    case Mode::Connect:
      return "handshakes";
    case Mode::Idle:
      return "messages";
  }
  return "messages";
}

void printProgress(std::FILE* out, std::size_t second, const SecondPoint& p, long long open,
                   unsigned long long errors, const char* unit) {
  std::fprintf(out, "%4zus  %11s %s/s  %8.2f MB/s  p50 %9s  p99 %9s  conns %lld  errors %llu%s\n",
               second + 1, withCommas(p.messagesPerSecond).c_str(), unit, p.megabytesPerSecond,
               latency(p.p50Us).c_str(), latency(p.p99Us).c_str(), open, errors,
               p.warmup ? "  (warmup)" : "");
}

void printSummary(std::FILE* out, const RunReport& r) {
  const Options& o = *r.options;
  std::fprintf(out, "\naerie-bench %s %s: %d conns", modeName(o.mode), o.url.c_str(), o.conns);
  if (o.mode == Mode::Broadcast) std::fprintf(out, " + %d publishers", o.publishers);
  if (o.mode == Mode::Echo || o.mode == Mode::Broadcast)
    std::fprintf(out, ", %zu B %s", o.size, o.binary ? "binary" : "text");
  if (o.rate > 0)
    std::fprintf(out, ", open loop at %s msgs/s", withCommas(o.rate).c_str());
  else if (o.mode == Mode::Echo)
    std::fprintf(out, ", %d in flight", o.inflight);
  std::fprintf(out, ", %d thread%s, %.1f s measured after %.1f s warmup\n", o.threads,
               o.threads == 1 ? "" : "s", r.seconds, o.warmup);

  if (o.mode == Mode::Idle) {
    std::fprintf(out, "connections   %llu open\n", static_cast<unsigned long long>(r.connected));
  } else {
    std::fprintf(out, "%-13s %s (%s/s, %.2f MB/s)\n", messageNoun(o.mode),
                 withCommas(double(r.messages)).c_str(), withCommas(r.messagesPerSecond()).c_str(),
                 r.megabytesPerSecond());
    if (o.mode == Mode::Broadcast || o.rate > 0)
      std::fprintf(out, "sent          %s (%s/s)\n", withCommas(double(r.sent)).c_str(),
                   withCommas(r.seconds > 0 ? double(r.sent) / r.seconds : 0).c_str());
    const Histogram& h = r.latency;
    std::fprintf(out, "latency       p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s\n",
                 latency(us(h.quantile(0.5))).c_str(), latency(us(h.quantile(0.9))).c_str(),
                 latency(us(h.quantile(0.99))).c_str(), latency(us(h.quantile(0.999))).c_str(),
                 latency(us(h.max())).c_str(), latency(h.mean() / 1000).c_str());
    std::fprintf(out, "%s", "\n    latency (us)   percentile   count at or below\n");
    for (const double q : kQuantiles) {
      if (q < 1.0 && double(h.count()) * (1.0 - q) < 1.0) continue;  // too few samples
      const std::int64_t v = h.quantile(q);
      std::fprintf(out, "    %12.1f   %10.5f   %llu\n", us(v), q * 100,
                   static_cast<unsigned long long>(std::llround(q * double(h.count()))));
    }
    std::fputc('\n', out);
  }
  if (r.serverCpuSeconds >= 0 && r.seconds > 0) {
    std::fprintf(out, "server        cpu %.0f %%", 100 * r.serverCpuSeconds / r.seconds);
    if (r.messages > 0)
      std::fprintf(out, ", %.3f us per %s", r.serverCpuSeconds * 1e6 / double(r.messages),
                   o.mode == Mode::Connect ? "handshake" : "message");
    std::fputc('\n', out);
  }
  if (r.serverRssAfterKib >= 0) {
    std::fprintf(out, "server rss    %ld KiB before, %ld KiB with the connections open",
                 r.serverRssBeforeKib, r.serverRssAfterKib);
    if (r.connected > 0)
      std::fprintf(out, " (%.0f B per connection)",
                   double(r.serverRssAfterKib - r.serverRssBeforeKib) * 1024 / double(r.connected));
    std::fputc('\n', out);
  }
  if (r.clientCpuSeconds >= 0 && r.seconds > 0) {
    std::fprintf(out, "client        cpu %.0f %%", 100 * r.clientCpuSeconds / r.seconds);
    if (r.messages > 0)  // what one message costs the generator: is it the bottleneck?
      std::fprintf(out, ", %.3f us per message", r.clientCpuSeconds * 1e6 / double(r.messages));
    std::fprintf(out, "; machine busy %.0f %% (all cores)\n",
                 100 * r.machineBusySeconds / r.seconds);
  }
  std::fprintf(out, "errors        %llu\n", static_cast<unsigned long long>(r.errors));
}

void printJson(std::FILE* out, const RunReport& r) {
  const Options& o = *r.options;
  std::string url;
  for (const char ch : o.url) {
    if (ch == '"' || ch == '\\') url += '\\';
    if (static_cast<unsigned char>(ch) >= 0x20) url += ch;
  }
  const Histogram& h = r.latency;
  std::fprintf(out, "{\"mode\":\"%s\",\"url\":\"%s\",\"conns\":%d,\"publishers\":%d,",
               modeName(o.mode), url.c_str(), o.conns,
               o.mode == Mode::Broadcast ? o.publishers : 0);
  std::fprintf(out, "\"size\":%zu,\"binary\":%s,\"inflight\":%d,\"rate\":%.3f,\"threads\":%d,",
               o.size, o.binary ? "true" : "false", o.inflight, o.rate, o.threads);
  std::fprintf(out, "\"warmup_s\":%.3f,\"duration_s\":%.3f,", o.warmup, r.seconds);
  std::fprintf(out, "\"messages\":%llu,\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,\"sent\":%llu,",
               static_cast<unsigned long long>(r.messages), r.messagesPerSecond(),
               r.megabytesPerSecond(), static_cast<unsigned long long>(r.sent));
  std::fprintf(out, "\"connected\":%llu,\"errors\":%llu,",
               static_cast<unsigned long long>(r.connected),
               static_cast<unsigned long long>(r.errors));
  std::fprintf(out, "\"latency_us\":{\"count\":%llu,\"mean\":%.3f,\"max\":%.3f",
               static_cast<unsigned long long>(h.count()), h.mean() / 1000, us(h.max()));
  for (const double q : kQuantiles)
    if (q < 1.0) std::fprintf(out, ",\"%s\":%.3f", quantileName(q).c_str(), us(h.quantile(q)));
  std::fprintf(out, "},");
  auto number = [](double v) { return v >= 0 ? std::to_string(v) : std::string("null"); };
  const bool haveServer = r.serverCpuSeconds >= 0 && r.seconds > 0;
  std::fprintf(
      out,
      "\"server\":{\"cpu_pct\":%s,\"cpu_us_per_msg\":%s,\"rss_kib_before\":%s,"
      "\"rss_kib_after\":%s,\"rss_bytes_per_conn\":%s},",
      number(haveServer ? 100 * r.serverCpuSeconds / r.seconds : -1).c_str(),
      number(haveServer && r.messages ? r.serverCpuSeconds * 1e6 / double(r.messages) : -1).c_str(),
      number(double(r.serverRssBeforeKib)).c_str(), number(double(r.serverRssAfterKib)).c_str(),
      number(r.serverRssAfterKib >= 0 && r.connected > 0
                 ? double(r.serverRssAfterKib - r.serverRssBeforeKib) * 1024 / double(r.connected)
                 : -1)
          .c_str());
  std::fprintf(out, "\"client_cpu_us_per_msg\":%s,",
               number(r.clientCpuSeconds >= 0 && r.messages > 0
                          ? r.clientCpuSeconds * 1e6 / double(r.messages)
                          : -1)
                   .c_str());
  std::fprintf(
      out, "\"client_cpu_pct\":%s,\"machine_busy_pct\":%s,",
      number(r.clientCpuSeconds >= 0 && r.seconds > 0 ? 100 * r.clientCpuSeconds / r.seconds : -1)
          .c_str(),
      number(r.machineBusySeconds >= 0 && r.seconds > 0 ? 100 * r.machineBusySeconds / r.seconds
                                                        : -1)
          .c_str());
  std::fprintf(out, "\"per_second\":[");
  for (std::size_t i = 0; i < r.perSecond.size(); ++i) {
    const SecondPoint& p = r.perSecond[i];
    std::fprintf(
        out,
        "%s{\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,\"p50_us\":%.3f,\"p99_us\":%.3f,\"warmup\":%s}",
        i ? "," : "", p.messagesPerSecond, p.megabytesPerSecond, p.p50Us, p.p99Us,
        p.warmup ? "true" : "false");
  }
  std::fprintf(out, "]}\n");
}

// Two hand-drawn panels: throughput per second, and latency against percentile on the
// usual "nines" axis (x = log10(1 / (1 - q))), latency on a log axis.
bool writeSvg(const std::string& path, const RunReport& r) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  constexpr double W = 900, PH = 300, L = 80, R = 30, T = 40, GAP = 90;
  const double plotW = W - L - R;
  std::fprintf(f,
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" "
               "height=\"100%%\" fill=\"white\"/>\n",
               W, T + 2 * PH + GAP + 50);
  const Options& o = *r.options;
  std::fprintf(f,
               "<text x=\"%.0f\" y=\"20\" font-size=\"14\">aerie-bench %s, %d conns, %zu B: %s "
               "%s/s, p99 %s, %llu errors</text>\n",
               L, modeName(o.mode), o.conns, o.size, withCommas(r.messagesPerSecond()).c_str(),
               messageNoun(o.mode), latency(us(r.latency.quantile(0.99))).c_str(),
               static_cast<unsigned long long>(r.errors));

  // Panel 1: throughput.
  double top = 1;
  for (const SecondPoint& p : r.perSecond)
    top = std::max(top, p.messagesPerSecond);
  top *= 1.1;
  const double y0 = T + PH;
  const std::size_t n = std::max<std::size_t>(r.perSecond.size(), 1);
  auto xs = [&](double i) { return L + plotW * i / double(n); };
  auto ys = [&](double v) { return y0 - PH * v / top; };
  std::fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%s per second (shaded: warmup)</text>\n", L, T - 5,
               messageNoun(o.mode));
  for (std::size_t i = 0; i < r.perSecond.size(); ++i)
    if (r.perSecond[i].warmup)
      std::fprintf(f,
                   "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"#eee\"/>\n",
                   xs(double(i)), T, xs(double(i + 1)) - xs(double(i)), PH);
  for (int g = 0; g <= 4; ++g) {
    const double v = top * g / 4;
    std::fprintf(f,
                 "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                 "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                 L, W - R, ys(v), ys(v), L - 5, ys(v) + 4, withCommas(v).c_str());
  }
  for (std::size_t i = 0; i <= r.perSecond.size(); i += std::max<std::size_t>(1, n / 10))
    std::fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%zus</text>\n",
                 xs(double(i)), y0 + 15, i);
  std::fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
  for (std::size_t i = 0; i < r.perSecond.size(); ++i)
    std::fprintf(f, "%.1f,%.1f ", xs(double(i) + 0.5), ys(r.perSecond[i].messagesPerSecond));
  std::fprintf(f,
               "\"/>\n<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
               "stroke=\"black\"/>\n",
               L, T, plotW, PH);

  // Panel 2: latency by percentile.
  const double t2 = T + PH + GAP, y2 = t2 + PH;
  const Histogram& h = r.latency;
  const double nines =
      std::max(1.0, std::min(6.0, std::floor(std::log10(std::max<double>(double(h.count()), 10)))));
  const double lo = std::pow(10, std::floor(std::log10(std::max(us(h.quantile(0.0)), 1.0))));
  const double hi = std::pow(10, std::ceil(std::log10(std::max(us(h.max()), lo * 10))));
  auto xq = [&](double q) { return L + plotW * std::log10(1 / (1 - q)) / nines; };
  auto yl = [&](double micros) {
    return y2 - PH * (std::log10(std::max(micros, lo)) - std::log10(lo)) /
                    (std::log10(hi) - std::log10(lo));
  };
  std::fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">latency (us, log scale) by percentile</text>\n", L,
               t2 - 5);
  for (double v = lo; v <= hi * 1.001; v *= 10)
    std::fprintf(f,
                 "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                 "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                 L, W - R, yl(v), yl(v), L - 5, yl(v) + 4, withCommas(v).c_str());
  for (int k = 0; k <= int(nines); ++k) {
    const double q = 1 - std::pow(10, -k);
    char label[16];
    std::snprintf(label, sizeof label, "%g%%", q * 100);
    std::fprintf(f,
                 "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#ddd\"/>"
                 "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n",
                 xq(q), xq(q), t2, y2, xq(q), y2 + 15, label);
  }
  if (h.count() > 0) {
    std::fprintf(f, "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" points=\"");
    for (int i = 0; i <= 200; ++i) {
      const double q = 1 - std::pow(10, -nines * i / 200.0);
      std::fprintf(f, "%.1f,%.1f ", xq(q), yl(us(h.quantile(q))));
    }
    std::fprintf(f, "\"/>\n");
  }
  std::fprintf(f,
               "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
               "stroke=\"black\"/>\n</svg>\n",
               L, t2, plotW, PH);
  return std::fclose(f) == 0;
}

}  // namespace aerie::bench
