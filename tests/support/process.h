// Child processes for tests that run the real binaries (osrc-node, osrc-hub,
// osrc-gen, system tools).
//
// Process starts a program with fork/execve and captures its stdout and
// stderr on a background I/O thread (a poll() loop that also feeds stdin and
// notices the exit through a pidfd), so arbitrarily large outputs never
// deadlock the child or the test. The test thread waits on conditions
// (exit, an output line) under a deadline; nothing here sleeps to
// synchronise.
//
// Run() is the one-shot form: start, feed stdin, wait, return exit code and
// both outputs.
//
// Thread-safety: a Process may be queried, waited on and signalled from any
// thread; construction and destruction must not race with other calls.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace osrc::testing {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// Now + timeout.
Deadline DeadlineIn(Clock::duration timeout);

// How a process ended.
struct ExitStatus {
  int code = -1;   // The exit code if it exited, else -1.
  int signal = 0;  // The signal that ended it, else 0.

  bool exited() const { return signal == 0; }
  bool success() const { return signal == 0 && code == 0; }
  // "exit 3" or "signal 9 (Killed)".
  std::string ToString() const;
  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

struct ProcessOptions {
  // The child's environment is the test's own, minus `unset_env`, with `env`
  // set (overriding existing values).
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> unset_env;
  // Standard input: `stdin_data` if set (fed through a pipe, then closed),
  // else the file `stdin_file` if not empty, else /dev/null.
  std::optional<std::string> stdin_data;
  std::string stdin_file;
  // If not empty, stdout goes to this file (created or truncated) instead of
  // being captured; stderr is always captured.
  std::string stdout_file;
  // If not empty, the child's working directory.
  std::string working_dir;
};

enum class Stream { kStdout, kStderr, kBoth };

// Remembers where the last WaitForOutputLine() match was, so the next call
// only considers later lines.
struct LineCursor {
  size_t next = 0;  // Index into the process's lines, in arrival order.
};

class Process {
 public:
  // Starts args[0] with arguments args (args[0] is also argv[0]). A program
  // name without '/' is looked up in $PATH. Throws std::system_error if the
  // process cannot be started, including when execve fails (e.g. no such
  // program), and std::invalid_argument if args is empty.
  explicit Process(std::vector<std::string> args, ProcessOptions options = {});
  // If still running: SIGKILL, then reap. Always joins the I/O thread.
  ~Process();

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::vector<std::string>& args() const { return args_; }
  // The arguments joined by spaces, for messages.
  std::string CommandLine() const;

  // Waits until the process has exited and been reaped, and its output up
  // to the exit has been captured. nullopt if the deadline passes first.
  std::optional<ExitStatus> Wait(Deadline deadline);
  std::optional<ExitStatus> WaitFor(Clock::duration timeout) { return Wait(DeadlineIn(timeout)); }
  // The exit status if already reaped; does not block.
  std::optional<ExitStatus> exit_status() const;
  bool running() const { return !exit_status().has_value(); }

  // Sends `signal` to the process unless it has already been reaped (so a
  // reused pid is never signalled). Returns whether the signal was sent.
  bool Kill(int signal = SIGKILL);

  // Waits for a complete line (without its '\n'; a final unterminated line
  // counts once the stream ends) on `stream` for which `match` is true, and
  // returns it. Lines already received count too, unless `cursor` is given:
  // then the search starts at cursor->next and, on a match, cursor->next is
  // moved past the matching line. Returns nullopt at the deadline, or as soon
  // as the captured streams have ended without a match. `match` runs with an
  // internal lock held: it must not call this Process.
  std::optional<std::string> WaitForOutputLine(const std::function<bool(std::string_view)>& match,
                                               Deadline deadline, Stream stream = Stream::kBoth,
                                               LineCursor* cursor = nullptr);
  // Same, for the first line containing `substring`.
  std::optional<std::string> WaitForOutputLine(std::string_view substring, Deadline deadline,
                                               Stream stream = Stream::kBoth,
                                               LineCursor* cursor = nullptr);

  // Everything captured so far.
  std::string stdout_text() const;
  std::string stderr_text() const;
  // The complete lines received so far on `stream`.
  std::vector<std::string> Lines(Stream stream = Stream::kBoth) const;

 private:
  struct LineRef {
    Stream stream;
    size_t begin;
    size_t end;
  };

  void Spawn();
  void IoLoop();
  // Reads what is available on *fd (all of it if `until_empty`); closes it at
  // end of file.
  void ReadFrom(int* fd, Stream stream, bool until_empty);
  void Append(Stream stream, const char* data, size_t size);
  void EndOfStream(Stream stream);
  void WriteStdin();
  bool HasExited();
  void Reap();

  const std::vector<std::string> args_;
  const ProcessOptions options_;
  pid_t pid_ = -1;

  // Owned by the I/O thread once it runs.
  int out_fd_ = -1;
  int err_fd_ = -1;
  int in_fd_ = -1;
  size_t stdin_written_ = 0;
  int pid_fd_ = -1;  // -1 if pidfd_open is not available: then poll waitid.
  int wake_fd_ = -1;
  std::thread io_thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                 // Guarded by mu_.
  std::string out_;                   // Guarded by mu_.
  std::string err_;                   // Guarded by mu_.
  size_t out_line_start_ = 0;         // Guarded by mu_.
  size_t err_line_start_ = 0;         // Guarded by mu_.
  bool out_ended_ = false;            // Guarded by mu_.
  bool err_ended_ = false;            // Guarded by mu_.
  std::vector<LineRef> lines_;        // Guarded by mu_.
  std::optional<ExitStatus> status_;  // Guarded by mu_.
};

// The result of Run().
struct RunResult {
  std::string command;  // The command line, for messages.
  int exit_code = -1;   // -1 if ended by a signal or timed out.
  int signal = 0;       // The signal that ended it, else 0.
  bool timed_out = false;
  std::string out;  // Captured stdout.
  std::string err;  // Captured stderr.

  bool ok() const { return exit_code == 0; }
  // Command, outcome and output (stdout cut to 2000 bytes), for assertions:
  // EXPECT_EQ(r.exit_code, 0) << r.Describe();
  std::string Describe() const;
};

// Runs args with `stdin_data` on stdin until it exits; after `timeout` it is
// killed (SIGKILL) and timed_out is set. Throws like Process if the program
// cannot be started.
//
// Inside a TEST body an unqualified `Run` names ::testing::Test::Run (a
// member wins over a namespace function), so call RunProcess there, or
// osrc::testing::Run.
RunResult Run(std::vector<std::string> args, std::string stdin_data = {},
              Clock::duration timeout = std::chrono::seconds(120));
inline RunResult RunProcess(std::vector<std::string> args, std::string stdin_data = {},
                            Clock::duration timeout = std::chrono::seconds(120)) {
  return Run(std::move(args), std::move(stdin_data), timeout);
}
// Same with full options.
RunResult RunWith(std::vector<std::string> args, ProcessOptions options,
                  Clock::duration timeout = std::chrono::seconds(120));

// OSRC_BIN_DIR "/" name: a binary built by this project, e.g. "osrc-node".
std::string BinPath(std::string_view name);
// OSRC_SOURCE_DIR "/" relative: a file in the source tree.
std::string SourcePath(std::string_view relative);

// Splits text into lines (without '\n'; no empty last line for a trailing
// '\n').
std::vector<std::string> SplitLines(std::string_view text);

}  // namespace osrc::testing
