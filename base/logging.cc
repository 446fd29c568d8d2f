#include "base/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace osrc {
namespace {

constexpr char kLevelVariable[] = "OSRC_LOG_LEVEL";

// The pattern flag %* : "<N>", the syslog priority of the message's level (sd-daemon(3)).
class SyslogPriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const char prefix[] = {'<', Priority(msg.level), '>'};
    dest.append(prefix, prefix + sizeof(prefix));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriorityFlag>();
  }

 private:
  static char Priority(spdlog::level::level_enum level) {
    switch (level) {
      case spdlog::level::critical:
        return '2';
      case spdlog::level::err:
        return '3';
      case spdlog::level::warn:
        return '4';
      case spdlog::level::info:
        return '6';
      default:
        return '7';
    }
  }
};

std::shared_ptr<spdlog::sinks::sink> JournalSink() {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<SyslogPriorityFlag>('*').set_pattern("%*[%n] [%l] %v");
  sink->set_formatter(std::move(formatter));
  return sink;
}

}  // namespace

Status LogLevelFromEnvironment(spdlog::level::level_enum* level, spdlog::level::level_enum unset) {
  const char* value = std::getenv(kLevelVariable);
  std::string_view name = value == nullptr ? "" : value;
  if (name.empty()) {
    *level = unset;
  } else if (name == "info") {
    *level = spdlog::level::info;
  } else if (name == "trace") {
    *level = spdlog::level::trace;
  } else if (name == "debug") {
    *level = spdlog::level::debug;
  } else if (name == "warn") {
    *level = spdlog::level::warn;
  } else if (name == "error") {
    *level = spdlog::level::err;
  } else {
    return {ErrorCode::kBadInput, "must be trace, debug, info, warn or error",
            std::string(kLevelVariable) + "=" + std::string(name)};
  }
  return {};
}

bool StderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0, inode = 0;
  char end = 0;
  if (std::sscanf(stream, "%llu:%llu%c", &device, &inode, &end) != 2) return false;
  struct stat info {};
  if (::fstat(STDERR_FILENO, &info) != 0) return false;
  return info.st_dev == device && info.st_ino == inode;
}

Status MakeDaemonLogger(const std::string& name, const std::string& log_file,
                        std::shared_ptr<spdlog::logger>* out, spdlog::level::level_enum unset) {
  spdlog::level::level_enum level;
  OSRC_RETURN_IF_ERROR(LogLevelFromEnvironment(&level, unset));
  std::shared_ptr<spdlog::logger> log;
  if (StderrIsJournal()) {
    log = std::make_shared<spdlog::logger>(name, JournalSink());
  } else {
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    std::shared_ptr<spdlog::sinks::sink> file;
    try {
      file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(log_file, 10 << 20, 5);
    } catch (const spdlog::spdlog_ex& e) {
      return {ErrorCode::kIo, std::string("cannot open the log file: ") + e.what(), log_file};
    }
    log = std::make_shared<spdlog::logger>(name, spdlog::sinks_init_list{console, file});
  }
  log->set_level(level);
  log->flush_on(spdlog::level::info);
  *out = std::move(log);
  return {};
}

}  // namespace osrc
