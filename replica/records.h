// Record operations shared by node and hub: checked writes from JSON (put, delete, import), reads
// (get, export) and the shipped reference data. Each call runs its own transaction; an import is
// one transaction, all lines or none. Thread-compatible.
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>

#include "config/schema.h"
#include "protocol/change.h"
#include "storage/hlc.h"
#include "storage/store.h"

namespace osrc::replica {

// Origin of the reference data shipped with the programs, applied identically everywhere.
inline constexpr std::string_view kDefaultsOrigin = "defaults";

// Who writes: a site (site-owned records with its prefix only) or the hub (anything).
struct Writer {
  storage::Store& store;
  const config::Schema& schema;
  storage::Clock& clock;
  std::string origin;  // site code or hub id
  bool is_hub = false;
  // Called inside the transaction for each change recorded (the hub indexes deliveries).
  std::function<void(storage::WriteTxn&, const protocol::Change&)> on_change;

  std::string_view site() const { return is_hub ? std::string_view() : origin; }
};

struct ImportStats {
  size_t lines = 0;
  size_t changed = 0;
  uint64_t head = 0;
};

// Sets fields from a JSON object; `*changed` false when the record already held them.
Status PutJson(Writer& writer, std::string_view collection, std::string_view id,
               std::string_view json, bool* changed);
struct DeleteResult {
  // Records deleted with it because they referenced it (`cascade`), per collection.
  std::map<std::string, size_t> cascaded;
};

// Deletes a live record (kNotFound otherwise). Live records of its site that reference it
// through the schema's site refs (a participant's services, referrals and attendance) refuse the
// delete, naming how many of which collections, unless `cascade`: then they, and in turn the
// records referencing them, are deleted in the same transaction. Cost: one scan of the site's
// records of each referencing collection per record deleted.
Status DeleteRecord(Writer& writer, std::string_view collection, std::string_view id, bool cascade,
                    DeleteResult* result);
// "deleted participants/MAS-P1" and, after a cascade, "and 3 records that referenced it: ...".
std::string DeleteSummary(std::string_view collection, std::string_view id,
                          const DeleteResult& result);
// Imports JSON Lines; `only_collection` non-empty restricts every line to that collection.
Status ImportJsonLines(Writer& writer, std::istream& in, std::string_view only_collection,
                       ImportStats* stats);
// ImportJsonLines from `file` ("-": standard input, read whole first), growing the store and
// reading the input again if it is full; errors name the file.
Status ImportJsonLinesFile(Writer& writer, const std::string& file,
                           std::string_view only_collection, ImportStats* stats);

// The record as an export line; kNotFound when absent or deleted.
Status GetJson(storage::Store& store, std::string_view collection, std::string_view id,
               std::string* out);
// Export lines sorted by collection then id. `collection` and `id_prefix` filter when non-empty.
void ExportJsonLines(storage::Store& store, std::string_view collection, std::string_view id_prefix,
                     std::ostream& out);
std::string ExportLine(std::string_view collection, std::string_view id,
                       const storage::RecordState& state);

// Applies the shipped reference data (idempotent).
Status LoadDefaultReferenceData(storage::Store& store, const config::Schema& schema);

// Live records per collection.
std::vector<std::pair<std::string, size_t>> CountRecords(storage::Store& store,
                                                         const storage::Txn& txn);

}  // namespace osrc::replica
