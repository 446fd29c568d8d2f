// The hub's site registry in the `sites` database: enrolment (key, name, revoked) and each site's
// sync progress (acknowledged sequence, cursor, last contact, clock skew) and what it last
// reported of itself.
// Value grammar: a JSON object with the fields of SiteEntry. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/store.h"

namespace osrc::hub {

// What a site reported of itself in its last Hello (0: none, or not measured).
struct SiteReport {
  uint64_t at_ms = 0;          // when, by the hub clock
  uint64_t log_head = 0;       // its change log's head
  uint64_t oldest_unsent = 0;  // stamp of its oldest change the hub had not acknowledged
  uint32_t link_rate = 0;      // bytes per second it measured towards the hub
  uint32_t round_trip_ms = 0;
  friend bool operator==(const SiteReport&, const SiteReport&) = default;
};

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
  SiteReport report;
};

// Changes the site still has to send, as it last reported: its log head less what the hub holds.
inline uint64_t ToSend(const SiteEntry& site) {
  return site.report.log_head > site.acked ? site.report.log_head - site.acked : 0;
}

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
