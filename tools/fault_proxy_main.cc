// osrc-faultproxy: runs a FaultProxy (tests/support/fault_proxy.h) in front of
// a local TCP service and takes fault commands on stdin, one per line:
//   rate N | latency MS | cut-after N | cut | blackhole | heal | stats | mark | timeline | quit
// `timeline` prints the bytes each direction carried per 100 ms since the last `mark`:
//   timeline slot_ms=100 up=N,N,... down=N,N,...
// Listens on --listen PORT, or on a free port if it is 0 or not given, and
// prints "listening 127.0.0.1:PORT" once ready: read the port from that line.
// Exits on quit, EOF, SIGINT or SIGTERM.

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/version.h"
#include "tests/support/fault_proxy.h"

namespace {

constexpr char kUsage[] =
    "usage: osrc-faultproxy [--listen PORT] --target PORT  (PORT 0 or no --listen: any"
    " free port)\n"
    "       osrc-faultproxy --version\n"
    "stdin commands: rate N | latency MS | cut-after N | cut | blackhole |"
    " heal | stats | mark | timeline | quit\n";

std::optional<uint64_t> ParseNumber(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::optional<uint16_t> ParsePort(std::string_view text) {
  std::optional<uint64_t> value = ParseNumber(text);
  if (!value || *value > 65535) return std::nullopt;
  return static_cast<uint16_t>(*value);
}

// Runs one command line. Returns false on "quit".
bool RunCommand(osrc::testing::FaultProxy& proxy, const std::string& line) {
  std::istringstream in(line);
  std::string verb;
  std::string arg;
  std::string extra;
  in >> verb >> arg >> extra;
  if (verb.empty()) return true;
  std::optional<uint64_t> number = ParseNumber(arg);
  bool needs_number = verb == "rate" || verb == "latency" || verb == "cut-after";
  if (!extra.empty() || (needs_number && !number) || (!needs_number && !arg.empty())) {
    std::fprintf(stderr, "error: bad command: %s\n", line.c_str());
    return true;
  }
  if (verb == "rate") {
    proxy.SetRate(*number);
  } else if (verb == "latency") {
    proxy.SetLatency(static_cast<int64_t>(*number));
  } else if (verb == "cut-after") {
    proxy.CutAfter(*number);
  } else if (verb == "cut") {
    proxy.CutNow();
  } else if (verb == "blackhole") {
    proxy.Blackhole(true);
  } else if (verb == "heal") {
    proxy.Heal();
  } else if (verb == "stats") {
    osrc::testing::FaultProxyStats s = proxy.Stats();
    std::printf(
        "up=%llu down=%llu accepted=%llu cut=%llu\n", static_cast<unsigned long long>(s.bytes_up),
        static_cast<unsigned long long>(s.bytes_down), static_cast<unsigned long long>(s.accepted),
        static_cast<unsigned long long>(s.cut));
    std::fflush(stdout);
  } else if (verb == "mark") {
    proxy.MarkTimeline();
  } else if (verb == "timeline") {
    osrc::testing::FaultProxyTimeline timeline = proxy.Timeline();
    auto join = [](const std::vector<uint64_t>& slots) {
      std::string text;
      for (uint64_t bytes : slots) text += (text.empty() ? "" : ",") + std::to_string(bytes);
      return text;
    };
    std::printf("timeline slot_ms=%d up=%s down=%s\n", osrc::testing::FaultProxyTimeline::kSlotMs,
                join(timeline.up).c_str(), join(timeline.down).c_str());
    std::fflush(stdout);
  } else if (verb == "quit") {
    return false;
  } else {
    std::fprintf(stderr, "error: unknown command: %s\n", verb.c_str());
  }
  return true;
}

}  // namespace

static int Run(int argc, char** argv) {
  std::optional<uint16_t> listen_port = 0;
  std::optional<uint16_t> target_port;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--version") {
      std::puts(osrc::VersionLine("osrc-faultproxy").c_str());
      return 0;
    }
    if ((flag == "--listen" || flag == "--target") && i + 1 < argc) {
      (flag == "--listen" ? listen_port : target_port) = ParsePort(argv[++i]);
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  if (!listen_port || !target_port || *target_port == 0) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  // Block the signals before the proxy thread starts (it inherits the mask);
  // they are read from a signalfd instead.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (signal_fd < 0) {
    std::perror("signalfd");
    return 1;
  }

  osrc::testing::FaultProxy proxy(*target_port, *listen_port);
  std::string error;
  if (!proxy.Start(&error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  std::printf("listening 127.0.0.1:%u\n", static_cast<unsigned>(proxy.port()));
  std::fflush(stdout);

  std::string pending;
  bool running = true;
  while (running) {
    pollfd pfds[2] = {{STDIN_FILENO, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (poll(pfds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      std::perror("poll");
      break;
    }
    if (pfds[1].revents & POLLIN) break;  // SIGINT/SIGTERM.
    if (pfds[0].revents == 0) continue;
    char buf[4096];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {  // EOF (or error): run a last unterminated line, then exit.
      if (!pending.empty()) RunCommand(proxy, pending);
      break;
    }
    pending.append(buf, static_cast<size_t>(n));
    size_t newline;
    while (running && (newline = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      running = RunCommand(proxy, line);
    }
  }
  proxy.Stop();
  close(signal_fd);
  return 0;
}

// The last resort: a failure is one line and exit 1, never an abort.
int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "osrc-faultproxy: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "osrc-faultproxy: unknown failure\n");
  }
  return 1;
}
