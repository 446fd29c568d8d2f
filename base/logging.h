// The daemons' loggers, set up in one place. Under systemd (stderr is the stream named by
// $JOURNAL_STREAM) a logger writes to stderr only, each line led by a syslog priority "<N>" that
// journald turns into the entry's priority, and without a timestamp (journald adds its own). Run
// by hand, it writes timestamped lines to stderr and to a rotating log file. The level comes from
// $OSRC_LOG_LEVEL. The loggers are thread-safe (spdlog _mt sinks).
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>

#include "base/error.h"

namespace osrc {

// The level $OSRC_LOG_LEVEL names: trace, debug, info, warn or error; `unset` when unset or
// empty. Any other value is an error naming the variable and the accepted values.
Status LogLevelFromEnvironment(spdlog::level::level_enum* level,
                               spdlog::level::level_enum unset = spdlog::level::info);

// True when stderr is the journal stream systemd passed in $JOURNAL_STREAM ("DEVICE:INODE").
bool StderrIsJournal();

// Makes the logger `name` (e.g. "hub", "node.sync") at the level of $OSRC_LOG_LEVEL, or `unset`.
// `log_file` is the rotating file (10 MiB, 5 kept) used when not under the journal.
Status MakeDaemonLogger(const std::string& name, const std::string& log_file,
                        std::shared_ptr<spdlog::logger>* out,
                        spdlog::level::level_enum unset = spdlog::level::info);

}  // namespace osrc
