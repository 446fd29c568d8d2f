#include "base/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <ostream>

namespace osrc {

Progress::Progress(std::string label, std::string unit, uint64_t total, NowMs now_ms,
                   std::ostream& out, bool enabled, ProgressOptions options)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      now_ms_(std::move(now_ms)),
      out_(out),
      enabled_(enabled),
      options_(options),
      start_ms_(enabled ? now_ms_() : 0) {}

void Progress::Update(uint64_t done) {
  done_ = done;
  if (!enabled_) return;
  uint64_t now = now_ms_();
  uint64_t elapsed = now - start_ms_;
  if (elapsed < options_.delay_ms) return;
  if (drawn_width_ > 0 && now - drawn_ms_ < options_.redraw_ms) return;
  std::string line = Line(elapsed);
  size_t width = line.size();
  // Spaces cover the end of a longer line drawn before.
  if (width < drawn_width_) line.append(drawn_width_ - width, ' ');
  out_ << '\r' << line << std::flush;
  drawn_width_ = std::max(width, drawn_width_);
  drawn_ms_ = now;
}

void Progress::Finish() {
  if (drawn_width_ == 0) return;
  out_ << '\r' << std::string(drawn_width_, ' ') << '\r' << std::flush;
  drawn_width_ = 0;
}

std::string Progress::Line(uint64_t elapsed_ms) const {
  std::string line = label_ + ": " + std::to_string(done_);
  if (total_ > 0) line += " of " + std::to_string(total_);
  line += " " + unit_;
  if (elapsed_ms == 0) return line;
  uint64_t rate = done_ * 1000 / elapsed_ms;
  line += ", " + std::to_string(rate) + "/s";
  if (total_ > 0 && rate > 0 && done_ <= total_) {
    uint64_t left_s = (total_ - done_ + rate - 1) / rate;
    line += ", " + std::to_string(left_s) + " s left";
  }
  return line;
}

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

uint64_t SteadyMillis() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::unique_ptr<Progress> StderrProgress(std::string label, std::string unit, uint64_t total) {
  return std::make_unique<Progress>(std::move(label), std::move(unit), total, SteadyMillis,
                                    std::cerr, StderrIsTerminal(), DefaultProgressOptions());
}

ProgressOptions DefaultProgressOptions() {
  ProgressOptions options;
  if (const char* delay = std::getenv("OSRC_PROGRESS_DELAY_MS")) {
    char* end = nullptr;
    unsigned long long value = std::strtoull(delay, &end, 10);
    if (end != delay && *end == '\0') options.delay_ms = value;
  }
  return options;
}

}  // namespace osrc
