#include "hub/delivery.h"

#include "storage/varint.h"

namespace osrc::hub {
namespace {

std::string DeliverKey(std::string_view dest, uint64_t seq) {
  std::string key(dest);
  key.push_back('\0');
  storage::AppendBigEndian64(&key, seq);
  return key;
}

// Reads up to `max` sequences for `dest` after `cursor`.
std::vector<uint64_t> ScanDest(storage::Store& store, const storage::Txn& txn,
                               std::string_view dest, uint64_t cursor, size_t max, bool* more) {
  std::vector<uint64_t> seqs;
  std::string prefix = DeliverKey(dest, 0).substr(0, dest.size() + 1);
  *more = false;
  store.deliver().Scan(txn, prefix, DeliverKey(dest, cursor + 1),
                       [&](std::string_view key, std::string_view) {
                         if (seqs.size() == max) {
                           *more = true;
                           return false;
                         }
                         seqs.push_back(storage::ReadBigEndian64(key.substr(prefix.size())));
                         return true;
                       });
  return seqs;
}

}  // namespace

std::string DestinationOf(const config::Schema& schema, const protocol::Change& change) {
  const config::CollectionSpec* spec = schema.Find(change.collection);
  if (spec == nullptr || spec->owner == config::Owner::kHub) return std::string(kEverySite);
  return std::string(config::SiteOfId(change.id));
}

void IndexDelivery(storage::Store& store, storage::WriteTxn& txn, std::string_view dest,
                   uint64_t seq) {
  store.deliver().Put(txn, DeliverKey(dest, seq), "");
}

protocol::Deliver ReadDeliverPage(storage::Store& store, const storage::Txn& txn, SealCache& seals,
                                  std::string_view site, uint64_t cursor, size_t max_entries,
                                  size_t max_bytes) {
  bool more_all = false, more_site = false;
  std::vector<uint64_t> all = ScanDest(store, txn, kEverySite, cursor, max_entries, &more_all);
  std::vector<uint64_t> mine = ScanDest(store, txn, site, cursor, max_entries, &more_site);
  std::vector<uint64_t> merged;
  merged.reserve(all.size() + mine.size());
  std::merge(all.begin(), all.end(), mine.begin(), mine.end(), std::back_inserter(merged));
  protocol::Deliver page;
  page.hub_head = store.LogHead(txn);
  bool truncated = more_all || more_site || merged.size() > max_entries;
  if (merged.size() > max_entries) merged.resize(max_entries);
  // When a scan stopped early, serve only up to the lower of the two scans' ends.
  uint64_t last = page.hub_head;
  if (more_all && !all.empty()) last = std::min(last, all.back());
  if (more_site && !mine.empty()) last = std::min(last, mine.back());
  if (truncated && !merged.empty()) last = std::min(last, merged.back());
  size_t page_bytes = 0;
  storage::LogReader log(txn, store.log());
  for (uint64_t seq : merged) {
    if (seq > last) break;
    auto bytes = log.Get(seq);
    if (!bytes)
      throw Error(ErrorCode::kCorruption, "hub log lacks indexed entry " + std::to_string(seq));
    page_bytes += bytes->size();
    if (max_bytes > 0 && !page.seqs.empty() && page_bytes > max_bytes) {
      last = page.seqs.back();  // the rest in the next page
      break;
    }
    page.seqs.push_back(seq);
    page.changes.emplace_back(*bytes);
    page.seals.push_back(seals.Seal(seq, *bytes));
  }
  page.first = cursor + 1;
  page.last = std::max(last, cursor);
  return page;
}

size_t PendingDeliveries(storage::Store& store, const storage::Txn& txn, std::string_view site,
                         uint64_t cursor) {
  bool more = false;
  constexpr size_t kCountLimit = 1'000'000;
  return ScanDest(store, txn, kEverySite, cursor, kCountLimit, &more).size() +
         ScanDest(store, txn, site, cursor, kCountLimit, &more).size();
}

}  // namespace osrc::hub
