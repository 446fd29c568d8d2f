#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

#ifndef OSRC_BIN_DIR
#error "OSRC_BIN_DIR must be defined (tests/CMakeLists.txt)"
#endif
#ifndef OSRC_SOURCE_DIR
#error "OSRC_SOURCE_DIR must be defined (tests/CMakeLists.txt)"
#endif

extern char** environ;

namespace osrc::testing {
namespace {

constexpr size_t kReadChunk = 1 << 16;
// How often the I/O thread checks for the exit when pidfd_open is missing.
constexpr int kExitPollMs = 5;

[[noreturn]] void ThrowErrno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

void SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) ThrowErrno(errno, "fcntl");
}

// A pipe, both ends close-on-exec; the child's end is dup2()ed, which clears
// the flag on the copy.
void MakePipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) ThrowErrno(errno, "pipe2");
}

std::string FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return name;  // execve fails with ENOENT.
}

std::vector<std::string> BuildEnvironment(const ProcessOptions& options) {
  auto removed = [&](std::string_view entry) {
    std::string_view key = entry.substr(0, entry.find('='));
    for (const auto& name : options.unset_env) {
      if (key == name) return true;
    }
    for (const auto& [name, value] : options.env) {
      if (key == name) return true;
    }
    return false;
  };
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!removed(*e)) env.emplace_back(*e);
  }
  for (const auto& [name, value] : options.env) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
#else
  (void)pid;
  return -1;
#endif
}

// In the child after fork(): only async-signal-safe calls.
[[noreturn]] void ChildFail(int error_fd) {
  int error = errno;
  ssize_t ignored = ::write(error_fd, &error, sizeof error);
  (void)ignored;
  ::_exit(127);
}

bool StreamMatches(Stream wanted, Stream actual) {
  return wanted == Stream::kBoth || wanted == actual;
}

}  // namespace

Deadline DeadlineIn(Clock::duration timeout) { return Clock::now() + timeout; }

std::string ExitStatus::ToString() const {
  if (signal != 0) {
    const char* name = ::strsignal(signal);
    return "signal " + std::to_string(signal) + " (" + (name ? name : "?") + ")";
  }
  return "exit " + std::to_string(code);
}

Process::Process(std::vector<std::string> args, ProcessOptions options)
    : args_(std::move(args)), options_(std::move(options)) {
  if (args_.empty()) throw std::invalid_argument("Process: no program given");
  Spawn();
  try {
    io_thread_ = std::thread([this] { IoLoop(); });
  } catch (...) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    for (int* fd : {&out_fd_, &err_fd_, &in_fd_, &pid_fd_, &wake_fd_}) CloseFd(fd);
    throw;
  }
}

void Process::Spawn() {
  // Everything the child needs is prepared before fork(): after it, in a
  // multithreaded parent, the child may only make async-signal-safe calls.
  std::string program = FindProgram(args_[0]);
  std::vector<std::string> argv_strings = args_;
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<std::string> env_strings = BuildEnvironment(options_);
  std::vector<char*> envp = CStrings(env_strings);

  int child_in = -1;
  int child_out = -1;
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int in_pipe[2] = {-1, -1};
  int exec_pipe[2] = {-1, -1};
  auto close_all = [&] {
    for (int* fd : {&out_pipe[0], &out_pipe[1], &err_pipe[0], &err_pipe[1], &in_pipe[0],
                    &in_pipe[1], &exec_pipe[0], &exec_pipe[1], &wake_fd_}) {
      CloseFd(fd);
    }
    if (!options_.stdin_data && child_in >= 0) ::close(child_in);
    if (!options_.stdout_file.empty() && child_out >= 0) ::close(child_out);
  };
  try {
    if (options_.stdin_data) {
      MakePipe(in_pipe);
      child_in = in_pipe[0];
    } else {
      std::string file = options_.stdin_file.empty() ? "/dev/null" : options_.stdin_file;
      child_in = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
      if (child_in < 0) ThrowErrno(errno, "open stdin file " + file);
    }
    if (!options_.stdout_file.empty()) {
      child_out =
          ::open(options_.stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (child_out < 0) ThrowErrno(errno, "open stdout file " + options_.stdout_file);
    } else {
      MakePipe(out_pipe);
      child_out = out_pipe[1];
    }
    MakePipe(err_pipe);
    MakePipe(exec_pipe);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) ThrowErrno(errno, "eventfd");
  } catch (...) {
    close_all();
    throw;
  }

  const char* working_dir = options_.working_dir.empty() ? nullptr : options_.working_dir.c_str();
  pid_t pid = ::fork();
  if (pid < 0) {
    int error = errno;
    close_all();
    ThrowErrno(error, "fork");
  }
  if (pid == 0) {
    // Child.
    if (::dup2(child_in, 0) < 0 || ::dup2(child_out, 1) < 0 || ::dup2(err_pipe[1], 2) < 0) {
      ChildFail(exec_pipe[1]);
    }
    // Restore default signal handling: ignored signals stay ignored across
    // execve, and the test may have blocked some.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) {
      ::sigaction(sig, &dfl, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // No descriptor of the test (sockets of other servers, pipes of other
    // children) leaks into the program.
#ifdef SYS_close_range
    ::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
#endif
    if (working_dir != nullptr && ::chdir(working_dir) != 0) ChildFail(exec_pipe[1]);
    ::execve(program.c_str(), argv.data(), envp.data());
    ChildFail(exec_pipe[1]);
  }

  // Parent.
  pid_ = pid;
  CloseFd(&exec_pipe[1]);
  CloseFd(&out_pipe[1]);
  CloseFd(&err_pipe[1]);
  CloseFd(&in_pipe[0]);
  if (!options_.stdin_data) ::close(child_in);
  if (!options_.stdout_file.empty()) ::close(child_out);
  child_in = child_out = -1;

  int exec_error = 0;
  ssize_t n;
  do {
    n = ::read(exec_pipe[0], &exec_error, sizeof exec_error);
  } while (n < 0 && errno == EINTR);
  CloseFd(&exec_pipe[0]);
  if (n > 0) {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    close_all();
    ThrowErrno(exec_error, "cannot start " + program);
  }

  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  in_fd_ = in_pipe[1];
  out_pipe[0] = err_pipe[0] = in_pipe[1] = -1;
  if (out_fd_ >= 0) SetNonBlocking(out_fd_);
  SetNonBlocking(err_fd_);
  if (in_fd_ >= 0) {
    SetNonBlocking(in_fd_);
    if (options_.stdin_data->empty()) CloseFd(&in_fd_);
  }
  if (out_fd_ < 0) out_ended_ = true;
  pid_fd_ = PidfdOpen(pid_);
}

Process::~Process() {
  if (pid_ > 0) {
    Kill(SIGKILL);
    // SIGKILL ends a process promptly unless it is stuck in the kernel;
    // do not hang the test run forever on that.
    Wait(DeadlineIn(std::chrono::seconds(30)));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
  (void)ignored;
  if (io_thread_.joinable()) io_thread_.join();
  CloseFd(&out_fd_);
  CloseFd(&err_fd_);
  CloseFd(&in_fd_);
  CloseFd(&pid_fd_);
  CloseFd(&wake_fd_);
}

std::string Process::CommandLine() const {
  std::string line;
  for (const auto& arg : args_) {
    if (!line.empty()) line += ' ';
    line += arg;
  }
  return line;
}

std::optional<ExitStatus> Process::Wait(Deadline deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return status_.has_value(); });
  return status_;
}

std::optional<ExitStatus> Process::exit_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

bool Process::Kill(int signal) {
  // Reaping happens under mu_, so the pid cannot be reused while we hold it.
  std::lock_guard<std::mutex> lock(mu_);
  if (status_ || pid_ <= 0) return false;
  return ::kill(pid_, signal) == 0;
}

std::optional<std::string> Process::WaitForOutputLine(
    const std::function<bool(std::string_view)>& match, Deadline deadline, Stream stream,
    LineCursor* cursor) {
  std::unique_lock<std::mutex> lock(mu_);
  size_t next = cursor ? cursor->next : 0;
  while (true) {
    for (; next < lines_.size(); ++next) {
      const LineRef& ref = lines_[next];
      if (!StreamMatches(stream, ref.stream)) continue;
      const std::string& text = ref.stream == Stream::kStdout ? out_ : err_;
      std::string_view line(text.data() + ref.begin, ref.end - ref.begin);
      if (match(line)) {
        if (cursor) cursor->next = next + 1;
        return std::string(line);
      }
    }
    bool ended =
        (stream == Stream::kStderr || out_ended_) && (stream == Stream::kStdout || err_ended_);
    if (ended) return std::nullopt;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && Clock::now() >= deadline) {
      // One last look at what arrived meanwhile.
      for (; next < lines_.size(); ++next) {
        const LineRef& ref = lines_[next];
        if (!StreamMatches(stream, ref.stream)) continue;
        const std::string& text = ref.stream == Stream::kStdout ? out_ : err_;
        std::string_view line(text.data() + ref.begin, ref.end - ref.begin);
        if (match(line)) {
          if (cursor) cursor->next = next + 1;
          return std::string(line);
        }
      }
      return std::nullopt;
    }
  }
}

std::optional<std::string> Process::WaitForOutputLine(std::string_view substring, Deadline deadline,
                                                      Stream stream, LineCursor* cursor) {
  std::string wanted(substring);
  return WaitForOutputLine(
      [&wanted](std::string_view line) { return line.find(wanted) != std::string_view::npos; },
      deadline, stream, cursor);
}

std::string Process::stdout_text() const {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

std::string Process::stderr_text() const {
  std::lock_guard<std::mutex> lock(mu_);
  return err_;
}

std::vector<std::string> Process::Lines(Stream stream) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> lines;
  for (const LineRef& ref : lines_) {
    if (!StreamMatches(stream, ref.stream)) continue;
    const std::string& text = ref.stream == Stream::kStdout ? out_ : err_;
    lines.emplace_back(text, ref.begin, ref.end - ref.begin);
  }
  return lines;
}

void Process::Append(Stream stream, const char* data, size_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string& text = stream == Stream::kStdout ? out_ : err_;
  size_t& line_start = stream == Stream::kStdout ? out_line_start_ : err_line_start_;
  size_t old_size = text.size();
  text.append(data, size);
  bool new_line = false;
  for (size_t pos = text.find('\n', old_size); pos != std::string::npos;
       pos = text.find('\n', pos + 1)) {
    lines_.push_back({stream, line_start, pos});
    line_start = pos + 1;
    new_line = true;
  }
  if (new_line) cv_.notify_all();
}

void Process::EndOfStream(Stream stream) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string& text = stream == Stream::kStdout ? out_ : err_;
  size_t& line_start = stream == Stream::kStdout ? out_line_start_ : err_line_start_;
  if (line_start < text.size()) {
    lines_.push_back({stream, line_start, text.size()});
    line_start = text.size();
  }
  (stream == Stream::kStdout ? out_ended_ : err_ended_) = true;
  cv_.notify_all();
}

void Process::ReadFrom(int* fd, Stream stream, bool until_empty) {
  char buffer[kReadChunk];
  // Without until_empty, read a bounded amount so one busy stream cannot
  // starve the other or the exit check.
  for (int round = 0; *fd >= 0 && (until_empty || round < 16); ++round) {
    ssize_t n = ::read(*fd, buffer, sizeof buffer);
    if (n > 0) {
      Append(stream, buffer, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    // End of file (or an error, treated alike).
    CloseFd(fd);
    EndOfStream(stream);
  }
}

void Process::WriteStdin() {
  const std::string& data = *options_.stdin_data;
  while (in_fd_ >= 0 && stdin_written_ < data.size()) {
    size_t chunk = std::min(data.size() - stdin_written_, kReadChunk);
    ssize_t n = ::write(in_fd_, data.data() + stdin_written_, chunk);
    if (n > 0) {
      stdin_written_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    break;  // EPIPE: the child closed its stdin; the rest is dropped.
  }
  CloseFd(&in_fd_);
}

bool Process::HasExited() {
  // WNOWAIT: the child stays a zombie (its pid reserved) until Reap().
  siginfo_t info{};
  int r;
  do {
    r = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return true;  // ECHILD: reaped elsewhere; Reap() records it.
  return info.si_pid == pid_;
}

void Process::Reap() {
  // All the child wrote before it exited is in the pipes now.
  ReadFrom(&out_fd_, Stream::kStdout, true);
  ReadFrom(&err_fd_, Stream::kStderr, true);
  CloseFd(&in_fd_);
  std::lock_guard<std::mutex> lock(mu_);
  int wstatus = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &wstatus, 0);
  } while (r < 0 && errno == EINTR);
  ExitStatus status;
  if (r == pid_ && WIFEXITED(wstatus)) status.code = WEXITSTATUS(wstatus);
  if (r == pid_ && WIFSIGNALED(wstatus)) status.signal = WTERMSIG(wstatus);
  status_ = status;
  cv_.notify_all();
}

void Process::IoLoop() {
  // A write to a child's closed stdin must fail with EPIPE, not kill the
  // test: SIGPIPE is delivered to the writing thread, so block it here.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);

  bool reaped = false;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
    }
    if (reaped && out_fd_ < 0 && err_fd_ < 0) break;

    pollfd fds[5];
    int count = 0;
    int out_index = -1, err_index = -1, in_index = -1, pid_index = -1;
    fds[count++] = {wake_fd_, POLLIN, 0};
    if (out_fd_ >= 0) {
      out_index = count;
      fds[count++] = {out_fd_, POLLIN, 0};
    }
    if (err_fd_ >= 0) {
      err_index = count;
      fds[count++] = {err_fd_, POLLIN, 0};
    }
    if (in_fd_ >= 0) {
      in_index = count;
      fds[count++] = {in_fd_, POLLOUT, 0};
    }
    if (!reaped && pid_fd_ >= 0) {
      pid_index = count;
      fds[count++] = {pid_fd_, POLLIN, 0};
    }
    int timeout = (!reaped && pid_fd_ < 0) ? kExitPollMs : -1;
    int n = ::poll(fds, static_cast<nfds_t>(count), timeout);
    if (n < 0 && errno != EINTR) break;
    if (n < 0) continue;

    if (fds[0].revents != 0) {
      uint64_t value;
      ssize_t ignored = ::read(wake_fd_, &value, sizeof value);
      (void)ignored;
    }
    if (in_index >= 0 && fds[in_index].revents != 0) WriteStdin();
    if (out_index >= 0 && fds[out_index].revents != 0) ReadFrom(&out_fd_, Stream::kStdout, false);
    if (err_index >= 0 && fds[err_index].revents != 0) ReadFrom(&err_fd_, Stream::kStderr, false);
    if (!reaped) {
      bool exited = pid_index >= 0 ? fds[pid_index].revents != 0 : HasExited();
      if (exited) {
        Reap();
        reaped = true;
      }
    }
  }
}

std::string RunResult::Describe() const {
  std::string text = "command: " + command + "\n";
  if (timed_out) {
    text += "outcome: timed out (killed)\n";
  } else if (signal != 0) {
    text += "outcome: " + ExitStatus{-1, signal}.ToString() + "\n";
  } else {
    text += "outcome: exit " + std::to_string(exit_code) + "\n";
  }
  constexpr size_t kMaxOut = 2000;
  text += "stdout (" + std::to_string(out.size()) + " bytes): " + out.substr(0, kMaxOut);
  if (out.size() > kMaxOut) text += "...";
  text += "\nstderr: " + err;
  return text;
}

RunResult Run(std::vector<std::string> args, std::string stdin_data, Clock::duration timeout) {
  ProcessOptions options;
  options.stdin_data = std::move(stdin_data);
  return RunWith(std::move(args), std::move(options), timeout);
}

RunResult RunWith(std::vector<std::string> args, ProcessOptions options, Clock::duration timeout) {
  Process process(std::move(args), std::move(options));
  RunResult result;
  result.command = process.CommandLine();
  std::optional<ExitStatus> status = process.WaitFor(timeout);
  if (!status) {
    result.timed_out = true;
    process.Kill(SIGKILL);
    status = process.WaitFor(std::chrono::seconds(30));
  }
  if (status) {
    result.exit_code = result.timed_out ? -1 : status->code;
    result.signal = status->signal;
  }
  result.out = process.stdout_text();
  result.err = process.stderr_text();
  return result;
}

std::string BinPath(std::string_view name) {
  return std::string(OSRC_BIN_DIR) + "/" + std::string(name);
}

std::string SourcePath(std::string_view relative) {
  return std::string(OSRC_SOURCE_DIR) + "/" + std::string(relative);
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    lines.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

}  // namespace osrc::testing
