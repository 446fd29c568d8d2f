// The hub's site registry in the `sites` database: enrolment (key, name, revoked) and each site's
// sync progress (acknowledged sequence, cursor, last contact, clock skew).
// Value grammar: a JSON object with the fields of SiteEntry. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/store.h"

namespace osrc::hub {

struct SiteEntry {
  std::string code;
  std::string public_key;  // Z85
  std::string name;
  bool revoked = false;
  uint64_t acked = 0;   // highest sequence of this site the hub holds
  uint64_t cursor = 0;  // highest hub sequence the site has applied
  uint64_t last_contact_ms = 0;
  int64_t clock_skew_ms = 0;  // site clock minus hub clock at its last hello
  uint64_t bundle_seq = 0;    // highest bundle number of this site imported
};

std::optional<SiteEntry> GetSite(storage::Store& store, const storage::Txn& txn,
                                 std::string_view code);
void PutSite(storage::Store& store, storage::WriteTxn& txn, const SiteEntry& entry);
// PutSite for a change of who may connect (enrol, a new key, revoke): also moves the enrolment
// version on, so the daemon knows to reread its keys.
void PutEnrolment(storage::Store& store, storage::WriteTxn& txn, const SiteEntry& entry);
uint64_t EnrolmentVersion(storage::Store& store, const storage::Txn& txn);
std::vector<SiteEntry> ListSites(storage::Store& store, const storage::Txn& txn);
// The enrolled, not revoked site with this public key.
std::optional<SiteEntry> FindSiteByKey(storage::Store& store, const storage::Txn& txn,
                                       std::string_view public_key);

}  // namespace osrc::hub
