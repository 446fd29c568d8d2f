#include "hub/enrolment.h"

#include <fstream>
#include <map>

#include "base/text.h"
#include "config/data_config.h"
#include "hub/sites.h"

namespace osrc::hub {

Status ReadEnrolmentFile(const std::string& file, std::vector<Enrolment>* out) {
  std::ifstream in(file);
  if (!in) return {ErrorCode::kNotFound, "cannot open file", file};
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    size_t comma = line.find(',');
    std::string where = file + ":" + std::to_string(number);
    if (comma == std::string::npos) {
      return {ErrorCode::kBadInput, "expected site,public_key", where};
    }
    size_t end = line.find(',', comma + 1);
    out->push_back(
        {line.substr(0, comma), line.substr(comma + 1, end - comma - 1), "", where, where});
  }
  if (in.bad()) return {ErrorCode::kIo, "read failed", file};
  if (out->empty()) return {ErrorCode::kBadInput, "no site in the file", file};
  return {};
}

Status EnrolSites(Hub& hub, const std::vector<Enrolment>& sites, bool replace,
                  std::vector<std::string>* replaced) {
  std::map<std::string, std::string> key_owner;  // key -> site, of this batch
  for (const Enrolment& e : sites) {
    if (!config::IsSiteCode(e.site)) {
      return {ErrorCode::kBadInput, "site code must be 2 to 8 capitals or digits: " + e.site,
              e.where};
    }
    if (!IsZ85Key(e.key)) {
      return {ErrorCode::kBadInput, "not a 40-character Z85 CURVE public key", e.key_where};
    }
    if (e.site == hub.config().hub_id) {
      return {ErrorCode::kBadInput, "that is the hub's own id", e.where};
    }
    if (e.key == hub.keys().public_key) {
      return {ErrorCode::kBadInput,
              "that is the hub's own public key; give the site's (osrc-node key prints it)",
              e.key_where};
    }
    auto [it, added] = key_owner.emplace(e.key, e.site);
    if (!added && it->second != e.site) {
      return {ErrorCode::kBadInput, "key given for both " + it->second + " and " + e.site, e.where};
    }
  }
  return storage::WithGrowth(hub.store().env(), [&]() -> Status {
    replaced->clear();
    storage::WriteTxn txn(hub.store().env());
    std::map<std::string, SiteEntry> enrolled;
    std::map<std::string, std::string> owner_of;  // key -> site, of live enrolments
    for (SiteEntry& entry : ListSites(hub.store(), txn)) {
      if (!entry.revoked) owner_of[entry.public_key] = entry.code;
      enrolled[entry.code] = std::move(entry);
    }
    for (const Enrolment& e : sites) {
      auto owner = owner_of.find(e.key);
      if (owner != owner_of.end() && owner->second != e.site) {
        return {ErrorCode::kBadInput, "key already enrolled for site " + owner->second,
                e.key_where};
      }
      SiteEntry& entry = enrolled[e.site];
      bool changes_key = !entry.public_key.empty() && entry.public_key != e.key && !entry.revoked;
      if (changes_key && !replace) {
        return {ErrorCode::kBadInput,
                "site " + e.site + " is enrolled with another key; to enrol this one instead, " +
                    "which ends the old key's sessions, add --replace",
                e.key_where};
      }
      if (changes_key) replaced->push_back(e.site);
      entry.code = e.site;
      entry.public_key = e.key;
      if (!e.name.empty()) entry.name = e.name;
      entry.revoked = false;
      PutEnrolment(hub.store(), txn, entry);
    }
    txn.Commit();
    return {};
  });
}

}  // namespace osrc::hub
