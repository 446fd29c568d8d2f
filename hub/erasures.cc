#include "hub/erasures.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/text.h"
#include "replica/data_folder.h"

namespace osrc::hub {
namespace {

std::string ErasuresPathOf(const std::string& dir) { return dir + "/" + std::string(kErasureFile); }

}  // namespace

Status AppendErasures(const std::string& dir, const std::vector<replica::ErasedRecord>& erased,
                      const std::string& actor, const std::string& reason) {
  std::string time = UtcTimeOf(static_cast<uint64_t>(::time(nullptr)) * 1000);
  std::string text;
  for (const replica::ErasedRecord& record : erased) {
    nlohmann::ordered_json line = {{"collection", record.collection},
                                   {"id", record.id},
                                   {"stamp", record.stamp},
                                   {"time", time},
                                   {"actor", actor},
                                   {"reason", reason}};
    text += line.dump() + "\n";
  }
  std::string path = ErasuresPathOf(dir);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return {ErrorCode::kIo, "cannot open the erasure register", path};
  Status status;
  if (::flock(fd, LOCK_EX) != 0) {
    status = {ErrorCode::kIo, "cannot lock the erasure register", path};
  } else if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
             ::fsync(fd) != 0) {
    status = {ErrorCode::kIo, "cannot write the erasure register (disk full?)", path};
  }
  ::close(fd);
  return status;
}

Status ReadErasures(const std::string& dir, std::vector<ErasureEntry>* out) {
  out->clear();
  std::ifstream in(ErasuresPathOf(dir));
  if (!in) return {};
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    std::string where = std::string(kErasureFile) + ": line " + std::to_string(number);
    try {
      auto json = nlohmann::json::parse(line);
      ErasureEntry entry;
      entry.record.collection = json.at("collection").get<std::string>();
      entry.record.id = json.at("id").get<std::string>();
      entry.record.stamp = json.at("stamp").get<uint64_t>();
      entry.time = json.value("time", "");
      entry.actor = json.value("actor", "");
      entry.reason = json.value("reason", "");
      out->push_back(std::move(entry));
    } catch (const nlohmann::json::exception& e) {
      return {ErrorCode::kCorruption, std::string("malformed entry: ") + e.what(), where};
    }
  }
  return {};
}

Status CopyErasures(const std::string& from_dir, const std::string& to_dir) {
  return replica::CopyLockedFile(from_dir, to_dir, kErasureFile, "erasure register");
}

}  // namespace osrc::hub
