#include "hub/sites.h"

#include <nlohmann/json.hpp>

namespace osrc::hub {
namespace {

SiteEntry Decode(std::string_view code, std::string_view bytes) {
  auto json = nlohmann::json::parse(bytes, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    throw Error(ErrorCode::kCorruption, "malformed site entry for " + std::string(code));
  }
  SiteEntry entry;
  entry.code = code;
  entry.public_key = json.value("key", "");
  entry.name = json.value("name", "");
  entry.revoked = json.value("revoked", false);
  entry.acked = json.value("acked", uint64_t{0});
  entry.cursor = json.value("cursor", uint64_t{0});
  entry.last_contact_ms = json.value("last_contact_ms", uint64_t{0});
  entry.clock_skew_ms = json.value("clock_skew_ms", int64_t{0});
  entry.bundle_seq = json.value("bundle_seq", uint64_t{0});
  if (auto report = json.find("report"); report != json.end() && report->is_object()) {
    entry.report = {report->value("at_ms", uint64_t{0}), report->value("log_head", uint64_t{0}),
                    report->value("oldest_unsent", uint64_t{0}),
                    report->value("link_rate", uint32_t{0}),
                    report->value("round_trip_ms", uint32_t{0})};
  }
  return entry;
}

}  // namespace

std::optional<SiteEntry> GetSite(storage::Store& store, const storage::Txn& txn,
                                 std::string_view code) {
  auto bytes = store.sites().Get(txn, code);
  if (!bytes) return std::nullopt;
  return Decode(code, *bytes);
}

void PutSite(storage::Store& store, storage::WriteTxn& txn, const SiteEntry& entry) {
  nlohmann::json json = {{"key", entry.public_key},
                         {"name", entry.name},
                         {"revoked", entry.revoked},
                         {"acked", entry.acked},
                         {"cursor", entry.cursor},
                         {"last_contact_ms", entry.last_contact_ms},
                         {"clock_skew_ms", entry.clock_skew_ms},
                         {"bundle_seq", entry.bundle_seq}};
  if (entry.report.at_ms > 0) {
    json["report"] = {{"at_ms", entry.report.at_ms},
                      {"log_head", entry.report.log_head},
                      {"oldest_unsent", entry.report.oldest_unsent},
                      {"link_rate", entry.report.link_rate},
                      {"round_trip_ms", entry.report.round_trip_ms}};
  }
  store.sites().Put(txn, entry.code, json.dump());
}

void PutEnrolment(storage::Store& store, storage::WriteTxn& txn, const SiteEntry& entry) {
  PutSite(store, txn, entry);
  store.PutMetaU64(txn, storage::kMetaEnrolment, EnrolmentVersion(store, txn) + 1);
}

uint64_t EnrolmentVersion(storage::Store& store, const storage::Txn& txn) {
  return store.GetMetaU64(txn, storage::kMetaEnrolment);
}

std::vector<SiteEntry> ListSites(storage::Store& store, const storage::Txn& txn) {
  std::vector<SiteEntry> sites;
  store.sites().Scan(txn, "", [&](std::string_view code, std::string_view bytes) {
    sites.push_back(Decode(code, bytes));
    return true;
  });
  return sites;
}

std::optional<SiteEntry> FindSiteByKey(storage::Store& store, const storage::Txn& txn,
                                       std::string_view public_key) {
  for (SiteEntry& site : ListSites(store, txn)) {
    if (!site.revoked && site.public_key == public_key) return std::move(site);
  }
  return std::nullopt;
}

}  // namespace osrc::hub
