#include "hub/audit.h"

#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/text.h"
#include "replica/data_folder.h"

namespace osrc::hub {
namespace {

std::string AuditPathOf(const std::string& dir) { return dir + "/" + std::string(kAuditFile); }

nlohmann::ordered_json Unhashed(const AuditEntry& e) {
  return {{"seq", e.seq},       {"time", e.time},     {"actor", e.actor}, {"action", e.action},
          {"target", e.target}, {"reason", e.reason}, {"prev", e.prev}};
}

Status ParseLine(const std::string& line, size_t number, AuditEntry* out) {
  nlohmann::json json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  std::string where = std::string(kAuditFile) + ":" + std::to_string(number);
  if (!json.is_object()) return {ErrorCode::kCorruption, "not a JSON object", where};
  try {
    out->seq = json.at("seq").get<uint64_t>();
    out->time = json.at("time").get<std::string>();
    out->actor = json.at("actor").get<std::string>();
    out->action = json.at("action").get<std::string>();
    out->target = json.at("target").get<std::string>();
    out->reason = json.at("reason").get<std::string>();
    out->prev = json.at("prev").get<std::string>();
    out->hash = json.at("hash").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return {ErrorCode::kCorruption, std::string("missing or mistyped field: ") + e.what(), where};
  }
  return {};
}

// The last entry of the log (seq 0 and no hash when empty).
// Reads the file's tail only: appends stay fast however long the log grows.
Status LastEntry(const std::string& dir, AuditEntry* last) {
  *last = AuditEntry{};
  std::ifstream in(AuditPathOf(dir), std::ios::binary | std::ios::ate);
  if (!in) return {};
  std::streamoff size = in.tellg();
  std::streamoff tail = std::min<std::streamoff>(size, 64 * 1024);
  std::string text(static_cast<size_t>(tail), '\0');
  in.seekg(size - tail);
  in.read(text.data(), tail);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (text.empty()) return {};
  size_t start = text.rfind('\n');
  if (start == std::string::npos && tail < size) {
    std::vector<AuditEntry> entries;  // a last line longer than the tail read
    OSRC_RETURN_IF_ERROR(ReadAudit(dir, &entries));
    if (!entries.empty()) *last = entries.back();
    return {};
  }
  return ParseLine(text.substr(start == std::string::npos ? 0 : start + 1), 0, last);
}

}  // namespace

std::string AuditHash(const AuditEntry& entry) {
  std::string text = Unhashed(entry).dump();
  unsigned char hash[crypto_generichash_BYTES];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), nullptr, 0);
  return HexOf(std::string_view(reinterpret_cast<const char*>(hash), sizeof hash));
}

std::string CommandLineActor() {
  struct passwd* entry = ::getpwuid(::geteuid());
  return "cli:" + (entry != nullptr ? std::string(entry->pw_name) : std::to_string(::geteuid()));
}

std::string AuditLine(const AuditEntry& entry) {
  nlohmann::ordered_json json = Unhashed(entry);
  json["hash"] = entry.hash;
  return json.dump();
}

Status AppendAudit(const std::string& dir, const std::string& actor, const std::string& action,
                   const std::string& target, const std::string& reason) {
  if (sodium_init() < 0) return {ErrorCode::kInternal, "libsodium failed to initialise"};
  std::string path = AuditPathOf(dir);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return {ErrorCode::kIo, "cannot open the audit log", path};
  Status status;
  if (::flock(fd, LOCK_EX) != 0) {
    status = {ErrorCode::kIo, "cannot lock the audit log", path};
  } else {
    AuditEntry last;
    status = LastEntry(dir, &last);
    if (status.ok()) {
      AuditEntry entry{last.seq + 1, UtcTimeOf(static_cast<uint64_t>(::time(nullptr)) * 1000),
                       actor,        action,
                       target,       reason,
                       last.hash,    ""};
      entry.hash = AuditHash(entry);
      std::string line = AuditLine(entry) + "\n";
      bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
      if (!written || ::fsync(fd) != 0) {
        status = {ErrorCode::kIo, "cannot write the audit log (disk full?)", path};
      }
    }
  }
  ::close(fd);
  return status;
}

Status CopyAuditLog(const std::string& from_dir, const std::string& to_dir) {
  return replica::CopyLockedFile(from_dir, to_dir, kAuditFile, "audit log");
}

Status ReadAudit(const std::string& dir, std::vector<AuditEntry>* out) {
  out->clear();
  std::ifstream in(AuditPathOf(dir));
  if (!in) return {};  // no entry yet
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    AuditEntry entry;
    OSRC_RETURN_IF_ERROR(ParseLine(line, number, &entry));
    out->push_back(std::move(entry));
  }
  return {};
}

Status VerifyAudit(const std::string& dir, size_t* entries) {
  if (sodium_init() < 0) return {ErrorCode::kInternal, "libsodium failed to initialise"};
  std::vector<AuditEntry> log;
  OSRC_RETURN_IF_ERROR(ReadAudit(dir, &log));
  for (size_t i = 0; i < log.size(); ++i) {
    const AuditEntry& entry = log[i];
    std::string where = std::string(kAuditFile) + ":" + std::to_string(i + 1) + " (entry " +
                        std::to_string(entry.seq) + ")";
    if (AuditHash(entry) != entry.hash) {
      return {ErrorCode::kCorruption, "altered: its hash does not match its content", where};
    }
    uint64_t expected = i == 0 ? 1 : log[i - 1].seq + 1;
    std::string prev = i == 0 ? "" : log[i - 1].hash;
    if (entry.seq != expected) {
      bool later = std::any_of(log.begin() + i + 1, log.end(),
                               [&](const AuditEntry& e) { return e.seq == expected; });
      if (later || entry.seq < expected) {
        return {ErrorCode::kCorruption,
                "out of order: entry " + std::to_string(expected) + " should come here", where};
      }
      return {ErrorCode::kCorruption,
              entry.seq == expected + 1
                  ? "entry " + std::to_string(expected) + " before it was removed"
                  : "entries " + std::to_string(expected) + " to " + std::to_string(entry.seq - 1) +
                        " before it were removed",
              where};
    }
    if (entry.prev != prev) {
      return {ErrorCode::kCorruption,
              "does not follow the entry before it: one of them was replaced", where};
    }
  }
  *entries = log.size();
  return {};
}

}  // namespace osrc::hub
