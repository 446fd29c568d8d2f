#include "replica/erase.h"

#include <cstdio>
#include <map>
#include <set>

#include "storage/compact.h"
#include "storage/local_writer.h"

namespace osrc::replica {
namespace {

// Records that referenced `collection`/`id` and are deleted now: their values live on only in
// this replica's change log (its own writes), which their erasure scrubs. One scan of the log.
std::vector<ErasedRecord> DeletedReferrers(const Writer& writer, const storage::Txn& txn,
                                           std::string_view collection, std::string_view id) {
  std::vector<ErasedRecord> out;
  std::vector<config::Referrer> referrers = writer.schema.ReferrersOf(collection);
  if (referrers.empty()) return out;
  std::set<std::string> seen;
  storage::Cursor cursor(txn, writer.store.log());
  for (bool more = cursor.First(); more; more = cursor.Next()) {
    protocol::Change change;
    if (!protocol::DecodeChange(cursor.value(), protocol::DecodeLimits{}, &change).ok()) continue;
    for (const config::Referrer& referrer : referrers) {
      if (change.collection != referrer.collection) continue;
      for (const protocol::Field& field : change.fields) {
        const auto* value = std::get_if<std::string>(&field.value);
        if (field.name != referrer.field || value == nullptr || *value != id) continue;
        if (!seen.insert(storage::RecordKey(change.collection, change.id)).second) continue;
        auto state = writer.store.GetRecord(txn, change.collection, change.id);
        if (state && !state->live() && !writer.store.IsErased(txn, change.collection, change.id)) {
          out.push_back({change.collection, change.id});
        }
      }
    }
  }
  return out;
}

// Every record referencing `first` (live, or deleted with values in this replica's log), and
// theirs in turn, each once, `first` excluded.
std::vector<ErasedRecord> AllReferrers(const Writer& writer, const storage::Txn& txn,
                                       const ErasedRecord& first) {
  std::vector<ErasedRecord> doomed = {first};
  std::set<std::string> seen = {storage::RecordKey(first.collection, first.id)};
  for (size_t i = 0; i < doomed.size(); ++i) {
    std::vector<ErasedRecord> found;
    for (RecordRef& live : LiveReferrers(writer, txn, doomed[i].collection, doomed[i].id)) {
      found.push_back({std::move(live.collection), std::move(live.id)});
    }
    for (ErasedRecord& deleted :
         DeletedReferrers(writer, txn, doomed[i].collection, doomed[i].id)) {
      found.push_back(std::move(deleted));
    }
    for (ErasedRecord& referrer : found) {
      if (seen.insert(storage::RecordKey(referrer.collection, referrer.id)).second) {
        doomed.push_back(std::move(referrer));
      }
    }
  }
  doomed.erase(doomed.begin());
  return doomed;
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
    ErasedRecord first{std::string(collection), std::string(id)};
    std::vector<ErasedRecord> doomed = {first};
    for (ErasedRecord& referrer : AllReferrers(writer, txn, first)) {
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
  std::vector<ErasedRecord> doomed;
  for (const ErasedRecord& record : erased) {
    for (ErasedRecord& referrer : AllReferrers(writer, txn, record)) {
      doomed.push_back(std::move(referrer));
    }
  }
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
