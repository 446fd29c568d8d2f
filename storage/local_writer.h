// LocalWriter: turns local writes into changes of this replica (next sequence, fresh stamp,
// the bases the writer saw), merges each into its record and appends it to the change log, all
// inside one write transaction. One per transaction; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/change.h"
#include "storage/hlc.h"
#include "storage/store.h"

namespace osrc::storage {

class LocalWriter {
 public:
  // Reads the log head, clock and clock offset from `txn`. `origin`: this replica's site code or
  // hub id. Both references must outlive the writer.
  LocalWriter(Store& store, WriteTxn& txn, Clock& clock, std::string origin);
  LocalWriter(const LocalWriter&) = delete;
  LocalWriter& operator=(const LocalWriter&) = delete;

  // Sets (null: unsets) `fields` of a record. Returns the change, or nullopt when the record
  // already holds exactly these values (nothing is recorded then).
  // REQUIRES: `fields` validated, sorted by name and unique.
  // `current`, if given, is the record's state as read in this transaction (saves a read).
  std::optional<protocol::Change> Put(std::string_view collection, std::string_view id,
                                      std::vector<protocol::Field> fields,
                                      RecordState* current = nullptr);
  // Deletes a record. Nullopt when it is absent or already deleted.
  std::optional<protocol::Change> Delete(std::string_view collection, std::string_view id);
  // Issues an erasure order for a record (live or not): it is erased here (Store::IsErased).
  // Nullopt when it is absent or already erased.
  std::optional<protocol::Change> Erase(std::string_view collection, std::string_view id);
  // Persists the clock; call before committing.
  void Finish();

  uint64_t head() const { return head_; }
  Hlc& hlc() { return hlc_; }

 private:
  // A change of the record with `state`, based on the newest write the state holds.
  static protocol::Change ChangeOf(std::string_view collection, std::string_view id,
                                   const RecordState& state);
  protocol::Change Record(protocol::Change change, RecordState* state = nullptr);

  Store& store_;
  WriteTxn& txn_;
  std::string origin_;
  uint64_t head_;
  Hlc hlc_;
};

}  // namespace osrc::storage
