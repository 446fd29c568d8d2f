// Record operations shared by node and hub: checked writes from JSON (put, delete) and from JSON
// Lines or CSV files (import), reads (get, export as JSON Lines or CSV) and the shipped reference
// data. Each call runs its own transaction; an import is one transaction, all lines or none.
// Thread-compatible.
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/progress.h"
#include "config/schema.h"
#include "protocol/change.h"
#include "replica/record_source.h"
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

// What an import shows of its bad lines: every error up to a limit, then how many more.
inline constexpr size_t kMaxImportErrors = 100;
struct ImportErrors {
  std::vector<ImportError> shown;  // the first kMaxImportErrors
  size_t more = 0;                 // errors beyond those
  size_t bad_lines = 0;            // lines (CSV: rows) with at least one error, or 1 for the file
  bool empty() const { return shown.empty(); }
  void Add(ImportError error);
  // "3 bad lines in FILE; nothing imported" (no " in FILE" when `file` is empty).
  Status Summary(std::string_view file) const;
};

struct ImportOptions {
  RecordFormat format = RecordFormat::kJsonLines;
  // CSV: the file's collection (required). JSON Lines: when set, every line's collection.
  std::string collection;
  bool allow_empty = false;      // a file without records is an error unless set
  Progress* progress = nullptr;  // counts records read, if set
};

// Sets fields from a JSON object; `*changed` false when the record already held them.
Status PutJson(Writer& writer, std::string_view collection, std::string_view id,
               std::string_view json, bool* changed);
// A record by collection and id.
struct RecordRef {
  std::string collection;
  std::string id;
};

// The live records of the same site that reference `collection`/`id` through the schema's
// site refs. Scans the site's records of each referencing collection (an id-prefix range).
std::vector<RecordRef> LiveReferrers(const Writer& writer, const storage::Txn& txn,
                                     std::string_view collection, std::string_view id);

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
// Imports the records of `text` (a whole file) in one transaction: all of them, or none when any
// is bad. Reads on past a bad line so that `errors` gets every one; then the transaction is
// aborted and the Status says how many lines were bad.
Status ImportRecords(Writer& writer, std::string_view text, const ImportOptions& options,
                     ImportStats* stats, ImportErrors* errors);
// ImportRecords of JSON Lines, an empty input allowed; the Status of the first bad line, if any.
Status ImportJsonLines(Writer& writer, std::istream& in, std::string_view only_collection,
                       ImportStats* stats);
// ImportRecords from `file` ("-": standard input), growing the store and importing again if it
// is full. The Status names the file.
Status ImportFile(Writer& writer, const std::string& file, const ImportOptions& options,
                  ImportStats* stats, ImportErrors* errors);

// The record as an export line; kNotFound when absent or deleted.
Status GetJson(storage::Store& store, std::string_view collection, std::string_view id,
               std::string* out);
// Export lines sorted by collection then id. `collection` and `id_prefix` filter when non-empty.
// `progress` (may be null) counts the records written. With `leave_out_personal_of`, fields that
// schema marks personal (pii) are left out.
void ExportJsonLines(storage::Store& store, std::string_view collection, std::string_view id_prefix,
                     std::ostream& out, Progress* progress = nullptr,
                     const config::Schema* leave_out_personal_of = nullptr);
// One collection as CSV (record_csv.h): a header, then rows sorted by id, fields in schema order.
void ExportCsv(storage::Store& store, const config::CollectionSpec& spec,
               std::string_view id_prefix, std::ostream& out, Progress* progress = nullptr);
std::string ExportLine(std::string_view collection, std::string_view id,
                       const storage::RecordState& state);

// Applies the shipped reference data (idempotent).
Status LoadDefaultReferenceData(storage::Store& store, const config::Schema& schema);

// Live records per collection.
std::vector<std::pair<std::string, size_t>> CountRecords(storage::Store& store,
                                                         const storage::Txn& txn);

}  // namespace osrc::replica
