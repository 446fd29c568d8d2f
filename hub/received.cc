#include "hub/received.h"

#include <vector>

#include "storage/varint.h"

namespace osrc::hub {
namespace {

constexpr uint64_t kMillisPerHour = 3'600'000;

std::string KeyOf(std::string_view site, uint64_t hour) {
  std::string key(site);
  key.push_back('\0');
  storage::AppendBigEndian64(&key, hour);
  return key;
}

}  // namespace

void CountReceived(storage::Store& store, storage::WriteTxn& txn, std::string_view site,
                   uint64_t now_ms, uint64_t changes) {
  if (changes == 0) return;
  uint64_t hour = now_ms / kMillisPerHour;
  std::string key = KeyOf(site, hour);
  uint64_t count = 0;
  std::optional<std::string_view> old = store.received().Get(txn, key);
  if (old && old->size() == 8) count = storage::ReadBigEndian64(*old);
  std::string value;
  storage::AppendBigEndian64(&value, count + changes);
  store.received().Put(txn, key, value);
  if (old || hour < kReceivedKeptHours) return;
  // A new hour: drop this site's hours that have left the window.
  std::vector<std::string> stale;
  std::string prefix = KeyOf(site, 0).substr(0, site.size() + 1);
  std::string end = KeyOf(site, hour - kReceivedKeptHours);
  store.received().Scan(txn, prefix, [&](std::string_view k, std::string_view) {
    if (k >= end) return false;
    stale.emplace_back(k);
    return true;
  });
  for (const std::string& k : stale) store.received().Delete(txn, k);
}

HourlyCounts ReadReceived(storage::Store& store, const storage::Txn& txn, uint64_t first_hour) {
  HourlyCounts counts;
  store.received().Scan(txn, "", [&](std::string_view key, std::string_view value) {
    size_t zero = key.find('\0');
    if (zero == std::string_view::npos || key.size() != zero + 9 || value.size() != 8) {
      throw Error(ErrorCode::kCorruption, "malformed received count in store");
    }
    uint64_t hour = storage::ReadBigEndian64(key.substr(zero + 1));
    if (hour >= first_hour) {
      counts[std::string(key.substr(0, zero))][hour] = storage::ReadBigEndian64(value);
    }
    return true;
  });
  return counts;
}

}  // namespace osrc::hub
