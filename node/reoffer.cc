#include "node/reoffer.h"

#include <vector>

#include "protocol/seal.h"
#include "storage/varint.h"

namespace osrc::node {
namespace {

constexpr char kKept = 0x01;
constexpr char kOwed = 0x02;

std::string KeyOf(char kind, uint64_t n) { return kind + storage::SeqKey(n); }

uint64_t NumberOf(std::string_view key) { return storage::ReadBigEndian64(key.substr(1)); }

}  // namespace

void KeepDelivered(storage::Store& store, storage::WriteTxn& txn, uint64_t hub_seq,
                   std::string_view seal, std::string_view change) {
  if (seal.size() != protocol::kSealBytes) return;
  std::string value;
  value.reserve(seal.size() + change.size());
  value.append(seal).append(change);
  std::string key = KeyOf(kKept, hub_seq);
  if (store.returns().Get(txn, key) == std::string_view(value)) return;  // delivered again
  store.returns().Put(txn, key, value);
}

void OweKept(storage::Store& store, storage::WriteTxn& txn) {
  storage::Table returns = store.returns();
  auto last = returns.LastKey(txn, std::string(1, kOwed));
  uint64_t next = last ? NumberOf(*last) + 1 : 1;
  std::vector<std::pair<std::string, std::string>> kept;
  returns.Scan(txn, std::string(1, kKept), [&](std::string_view key, std::string_view value) {
    kept.emplace_back(key, value);
    return true;
  });
  for (const auto& [key, value] : kept) {
    returns.Put(txn, KeyOf(kOwed, next++), value);
    returns.Delete(txn, key);
  }
}

size_t OwedCount(storage::Store& store, const storage::Txn& txn) {
  size_t count = 0;
  store.returns().Scan(txn, std::string(1, kOwed), [&](std::string_view, std::string_view) {
    ++count;
    return true;
  });
  return count;
}

std::optional<protocol::Reoffer> NextReoffer(storage::Store& store, const storage::Txn& txn,
                                             size_t max_bytes) {
  protocol::Reoffer page;
  size_t bytes = 0;
  store.returns().Scan(
      txn, std::string(1, kOwed), [&](std::string_view key, std::string_view value) {
        if (!page.changes.empty() && bytes >= max_bytes) return false;
        if (value.size() < protocol::kSealBytes) {
          throw Error(ErrorCode::kCorruption, "owed hub change " + std::to_string(NumberOf(key)) +
                                                  " is shorter than its seal");
        }
        page.seals.emplace_back(value.substr(0, protocol::kSealBytes));
        page.changes.emplace_back(value.substr(protocol::kSealBytes));
        page.token = NumberOf(key);
        bytes += value.size();
        return true;
      });
  if (page.changes.empty()) return std::nullopt;
  return page;
}

void DropReoffered(storage::Store& store, storage::WriteTxn& txn, uint64_t token) {
  std::vector<std::string> keys;
  store.returns().Scan(txn, std::string(1, kOwed), [&](std::string_view key, std::string_view) {
    if (NumberOf(key) > token) return false;
    keys.emplace_back(key);
    return true;
  });
  for (const std::string& key : keys) store.returns().Delete(txn, key);
}

}  // namespace osrc::node
