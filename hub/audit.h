// The hub's audit trail: `<dir>/audit.log`, append-only JSON Lines, one entry per action that
// reads out or changes personal data (exports, reports, central corrections, reference imports,
// enrolments, backups and restores). Each entry holds its number, time, actor, action, target,
// reason and the previous entry's hash, and its own hash: BLAKE2b-256 (libsodium) of the entry
// without its hash. Changing, removing or reordering an entry breaks the chain at that entry.
// Appends from several processes are serialised by a lock on the file. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace osrc::hub {

inline constexpr std::string_view kAuditFile = "audit.log";

struct AuditEntry {
  uint64_t seq = 0;
  std::string time;    // UTC, 2026-12-04T12:00:00Z
  std::string actor;   // "cli:USER" for the command line, else an operator name
  std::string action;  // "export", "report", "correction", ...
  std::string target;
  std::string reason;
  std::string prev;  // hex hash of the previous entry; empty for the first
  std::string hash;  // hex
};

// The actor of commands run here: "cli:" and the user running them.
std::string CommandLineActor();

// Appends an entry to the log of `dir`, durably; the caller acts only if this succeeds.
Status AppendAudit(const std::string& dir, const std::string& actor, const std::string& action,
                   const std::string& target, const std::string& reason = {});

// Reads every entry without checking the chain; an error names the line that does not parse.
Status ReadAudit(const std::string& dir, std::vector<AuditEntry>* out);

// Checks the chain; the error names the first entry altered, removed or out of order.
Status VerifyAudit(const std::string& dir, size_t* entries);

std::string AuditLine(const AuditEntry& entry);  // the JSON line, with its hash
std::string AuditHash(const AuditEntry& entry);  // hex BLAKE2b-256 of the entry without its hash

// Copies the log of `from_dir` whole (no append half-written) to `to_dir`; nothing when absent.
Status CopyAuditLog(const std::string& from_dir, const std::string& to_dir);

}  // namespace osrc::hub
