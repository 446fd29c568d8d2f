// Progress: a one-line display of a long command's progress on a terminal (records done, rate,
// time left when the total is known), rewritten with '\r' and cleared at the end. It shows only
// once the work has lasted `delay_ms`, and never when disabled (stderr not a terminal), so piped
// and logged output stays clean. Single-threaded; the clock and the stream outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

namespace osrc {

struct ProgressOptions {
  // Nothing shows before the work has lasted this long. Default: 1000 ms.
  uint64_t delay_ms = 1000;
  // The line is redrawn at most this often. Default: 200 ms.
  uint64_t redraw_ms = 200;
};

class Progress {
 public:
  using NowMs = std::function<uint64_t()>;

  // `label`: what is being done ("import"); `unit`: what is counted ("records"); `total`: how
  // many there will be, 0 when unknown. `enabled` false: prints nothing at all.
  Progress(std::string label, std::string unit, uint64_t total, NowMs now_ms, std::ostream& out,
           bool enabled, ProgressOptions options = {});
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress() { Finish(); }

  void SetTotal(uint64_t total) { total_ = total; }
  // `done` of the total so far; redraws when it is time to.
  void Update(uint64_t done);
  // Clears the line if one was drawn. Idempotent.
  void Finish();

  // The line as it would be drawn after `elapsed_ms`, e.g.
  // "import: 4200 of 10000 records, 2100/s, 3 s left".
  std::string Line(uint64_t elapsed_ms) const;

 private:
  std::string label_;
  std::string unit_;
  uint64_t total_;
  NowMs now_ms_;
  std::ostream& out_;
  bool enabled_;
  ProgressOptions options_;
  uint64_t start_ms_;
  uint64_t drawn_ms_ = 0;
  uint64_t done_ = 0;
  size_t drawn_width_ = 0;  // 0: nothing on the terminal line
};

// Whether standard error is a terminal (progress is shown there only).
bool StderrIsTerminal();
// The delay before progress shows: 1000 ms, or OSRC_PROGRESS_DELAY_MS (tests set 0).
ProgressOptions DefaultProgressOptions();
// Milliseconds of the monotonic clock.
uint64_t SteadyMillis();
// Progress on standard error by the monotonic clock, drawn only when stderr is a terminal.
std::unique_ptr<Progress> StderrProgress(std::string label, std::string unit, uint64_t total = 0);

}  // namespace osrc
