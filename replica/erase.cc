#include "replica/erase.h"

#include <cstdio>
#include <map>
#include <set>

#include "storage/compact.h"
#include "storage/local_writer.h"

namespace osrc::replica {
namespace {

// Records that referenced any of `targets` and are deleted now: their values live on only in
// this replica's change log (its own writes), which their erasure scrubs. One scan of the log.
std::vector<ErasedRecord> DeletedReferrers(const Writer& writer, const storage::Txn& txn,
                                           const std::vector<ErasedRecord>& targets) {
  // collection 0x00 field 0x00 id of each reference to a target that a change could hold.
  std::set<std::string, std::less<>> references;
  for (const ErasedRecord& target : targets) {
    for (const config::Referrer& referrer : writer.schema.ReferrersOf(target.collection)) {
      references.insert(referrer.collection + '\0' + referrer.field + '\0' + target.id);
    }
  }
  std::vector<ErasedRecord> out;
  if (references.empty()) return out;
  std::set<std::string> seen;
  writer.store.ForEachLog(txn, 1, [&](uint64_t, std::string_view bytes) {
    protocol::Change change;
    if (!protocol::DecodeChange(bytes, protocol::DecodeLimits{}, &change).ok()) return true;
    for (const protocol::Field& field : change.fields) {
      const auto* value = std::get_if<std::string>(&field.value);
      if (value == nullptr ||
          !references.contains(change.collection + '\0' + field.name + '\0' + *value) ||
          !seen.insert(storage::RecordKey(change.collection, change.id)).second) {
        continue;
      }
      auto state = writer.store.GetRecord(txn, change.collection, change.id);
      if (state && !state->live() && !writer.store.IsErased(txn, change.collection, change.id)) {
        out.push_back({change.collection, change.id});
      }
    }
    return true;
  });
  return out;
}

// Every record referencing one of `firsts` (live, or deleted with values in this replica's
// log), and theirs in turn, each once, `firsts` excluded. One log scan per level of references.
std::vector<ErasedRecord> AllReferrers(const Writer& writer, const storage::Txn& txn,
                                       const std::vector<ErasedRecord>& firsts) {
  std::set<std::string> seen;
  for (const ErasedRecord& first : firsts)
    seen.insert(storage::RecordKey(first.collection, first.id));
  std::vector<ErasedRecord> all;
  std::vector<ErasedRecord> level = firsts;
  while (!level.empty()) {
    std::vector<ErasedRecord> found = DeletedReferrers(writer, txn, level);
    for (const ErasedRecord& record : level) {
      for (RecordRef& live : LiveReferrers(writer, txn, record.collection, record.id)) {
        found.push_back({std::move(live.collection), std::move(live.id)});
      }
    }
    level.clear();
    for (ErasedRecord& referrer : found) {
      if (seen.insert(storage::RecordKey(referrer.collection, referrer.id)).second) {
        level.push_back(referrer);
        all.push_back(std::move(referrer));
      }
    }
  }
  return all;
}

// Erases `records` in order inside `txn`, each that is held and not yet erased.
void EraseIn(Writer& writer, storage::WriteTxn& txn, const std::vector<ErasedRecord>& records,
             EraseResult* result) {
  storage::LocalWriter local(writer.store, txn, writer.clock, writer.origin);
  for (const ErasedRecord& record : records) {
    auto change = local.Erase(record.collection, record.id);
    if (!change) continue;
    if (writer.on_change) writer.on_change(txn, *change);
    result->erased.push_back({record.collection, record.id, change->stamp});
  }
  local.Finish();
}

}  // namespace

Status EraseRecord(Writer& writer, std::string_view collection, std::string_view id,
                   EraseResult* result) {
  std::string where = protocol::RecordName(collection, id);
  const config::CollectionSpec* spec = nullptr;
  OSRC_RETURN_IF_ERROR(writer.schema.CheckCollection(collection, writer.site(), &spec));
  OSRC_RETURN_IF_ERROR(config::Schema::CheckId(*spec, id, writer.site()));
  OSRC_RETURN_IF_ERROR(storage::WithGrowth(writer.store.env(), [&]() -> Status {
    *result = {};
    storage::WriteTxn txn(writer.store.env());
    if (!writer.store.GetRecord(txn, collection, id)) {
      return {ErrorCode::kNotFound, "not found", where};
    }
    if (writer.store.IsErased(txn, collection, id)) {
      return {ErrorCode::kBadInput, "already erased", where};
    }
    // The record, then those referencing it and theirs in turn, each once.
    std::vector<ErasedRecord> doomed = {{std::string(collection), std::string(id)}};
    for (ErasedRecord& referrer : AllReferrers(writer, txn, doomed)) {
      doomed.push_back(std::move(referrer));
    }
    EraseIn(writer, txn, doomed, result);
    txn.Commit();
    return {};
  }));
  return {};
}

void EraseDeletedReferrersIn(Writer& writer, storage::WriteTxn& txn,
                             const std::vector<ErasedRecord>& erased, EraseResult* result) {
  std::vector<ErasedRecord> doomed = AllReferrers(writer, txn, erased);
  if (!doomed.empty()) EraseIn(writer, txn, doomed, result);
}

Status EraseAgain(Writer& writer, const std::vector<ErasedRecord>& records, EraseResult* result) {
  OSRC_RETURN_IF_ERROR(storage::WithGrowth(writer.store.env(), [&]() -> Status {
    *result = {};
    storage::WriteTxn txn(writer.store.env());
    EraseIn(writer, txn, records, result);
    txn.Commit();
    return {};
  }));
  return {};
}

std::string CompactAfterErasure(const std::string& dir, storage::Store& store) {
  storage::CompactStats stats;
  try {
    switch (storage::CompactIfPending(dir, store, &stats)) {
      case storage::CompactOutcome::kNotPending:
        return {};
      case storage::CompactOutcome::kBusy:
        return "the store is open in another process (a daemon?): the erased values leave its "
               "freed pages when the daemon next starts or stops";
      case storage::CompactOutcome::kCompacted:
        break;
    }
  } catch (const Error& e) {
    return "store not compacted (retried at the next command): " + std::string(e.what());
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.2f", stats.seconds);
  return "store compacted, freed pages cleared: " + std::to_string(stats.bytes_before) + " -> " +
         std::to_string(stats.bytes_after) + " bytes in " + seconds + " s";
}

std::string EraseSummary(const EraseResult& result) {
  if (result.erased.empty()) return "nothing erased";
  const ErasedRecord& first = result.erased.front();
  std::string out = "erased " + protocol::RecordName(first.collection, first.id);
  if (result.erased.size() == 1) return out;
  std::map<std::string, size_t> counts;
  for (size_t i = 1; i < result.erased.size(); ++i) ++counts[result.erased[i].collection];
  std::string list;
  for (const auto& [name, count] : counts) {
    list += (list.empty() ? "" : ", ") + std::to_string(count) + " " + name;
  }
  size_t total = result.erased.size() - 1;
  return out + " and " + std::to_string(total) + " record" + (total == 1 ? "" : "s") +
         " that referenced it: " + list;
}

}  // namespace osrc::replica
