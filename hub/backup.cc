#include "hub/backup.h"

#include <filesystem>

#include "base/text.h"
#include "config/data_config.h"
#include "hub/audit.h"
#include "hub/erasures.h"
#include "hub/hub.h"
#include "replica/run_lock.h"

namespace osrc::hub {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFolderFiles[] = {"hub.toml", "hub.key", "hub.pub"};

Status CopyFile(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec)
    return {ErrorCode::kIo, "cannot copy " + from.string() + ": " + ec.message(), to.string()};
  fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write, ec);
  return {};
}

}  // namespace

Status Backup(const std::string& dir, const std::string& to) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  std::error_code ec;
  if (fs::exists(to, ec) && !fs::is_empty(to, ec)) {
    return {ErrorCode::kBadInput, "backup folder exists and is not empty", to};
  }
  fs::create_directories(to, ec);
  if (ec) return {ErrorCode::kIo, "cannot create folder: " + ec.message(), to};
  fs::permissions(to, fs::perms::owner_all, ec);
  hub->store().env().CopyTo(to);  // one read transaction: a consistent snapshot
  fs::permissions(fs::path(to) / "data.mdb", fs::perms::owner_read | fs::perms::owner_write, ec);
  for (const char* name : kFolderFiles) {
    OSRC_RETURN_IF_ERROR(CopyFile(fs::path(dir) / name, fs::path(to) / name));
  }
  OSRC_RETURN_IF_ERROR(CopyErasures(dir, to));
  return CopyAuditLog(dir, to);
}

Status Restore(const std::string& dir, const std::string& from, std::string* epoch_hex,
               size_t* erased_again) {
  std::error_code ec;
  if (!fs::exists(fs::path(from) / "data.mdb", ec) ||
      !fs::exists(fs::path(from) / config::kHubConfigFile, ec)) {
    return {ErrorCode::kBadInput, "not a hub backup (no data.mdb and hub.toml)", from};
  }
  fs::create_directories(dir, ec);
  fs::permissions(dir, fs::perms::owner_all, ec);
  replica::RunLock lock;
  OSRC_RETURN_IF_ERROR(lock.Acquire(dir));
  for (const char* name : kFolderFiles) {
    OSRC_RETURN_IF_ERROR(CopyFile(fs::path(from) / name, fs::path(dir) / name));
  }
  // The audit trail is not rolled back: the folder keeps its own, or takes the backup's if lost.
  if (!fs::exists(fs::path(dir) / kAuditFile, ec)) OSRC_RETURN_IF_ERROR(CopyAuditLog(from, dir));
  // Nor the erasure register: erasures made after the backup are applied again below.
  if (!fs::exists(fs::path(dir) / kErasureFile, ec)) OSRC_RETURN_IF_ERROR(CopyErasures(from, dir));
  std::vector<ErasureEntry> register_entries;
  OSRC_RETURN_IF_ERROR(ReadErasures(dir, &register_entries));
  fs::path temp = fs::path(dir) / "data.mdb.restoring";
  OSRC_RETURN_IF_ERROR(CopyFile(fs::path(from) / "data.mdb", temp));
  fs::rename(temp, fs::path(dir) / "data.mdb", ec);
  if (ec) return {ErrorCode::kIo, "cannot replace the store: " + ec.message(), dir};
  fs::remove(fs::path(dir) / "lock.mdb", ec);
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  std::string epoch = NewEpoch();
  {
    storage::WriteTxn txn(hub->store().env());
    hub->store().PutMeta(txn, storage::kMetaEpoch, epoch);
    txn.Commit();
  }
  // Under the new epoch: the orders issued again are delivered to the sites like new ones.
  std::vector<replica::ErasedRecord> records;
  for (const ErasureEntry& entry : register_entries) records.push_back(entry.record);
  replica::Writer writer = hub->writer();
  replica::EraseResult result;
  OSRC_RETURN_IF_ERROR(replica::EraseAgain(writer, records, &result).WithContext(kErasureFile));
  *erased_again = result.erased.size();
  replica::CompactAfterErasure(dir, hub->store());
  *epoch_hex = HexOf(epoch);
  return {};
}

}  // namespace osrc::hub
