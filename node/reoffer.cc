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
  if (txn.Get(store.returns(), key) == std::string_view(value)) return;  // delivered again
  txn.Put(store.returns(), key, value);
}

void OweKept(storage::Store& store, storage::WriteTxn& txn) {
  uint64_t next = 1;
  {
    storage::Cursor it(txn, store.returns());
    if (it.Last() && it.key()[0] == kOwed) next = NumberOf(it.key()) + 1;
  }
  std::vector<std::pair<std::string, std::string>> kept;
  {
    storage::Cursor it(txn, store.returns());
    for (bool ok = it.Seek(std::string(1, kKept)); ok && it.key()[0] == kKept; ok = it.Next()) {
      kept.emplace_back(it.key(), it.value());
    }
  }
  for (const auto& [key, value] : kept) {
    txn.Put(store.returns(), KeyOf(kOwed, next++), value);
    txn.Del(store.returns(), key);
  }
}

size_t OwedCount(storage::Store& store, const storage::Txn& txn) {
  size_t count = 0;
  storage::Cursor it(txn, store.returns());
  for (bool ok = it.Seek(std::string(1, kOwed)); ok; ok = it.Next()) ++count;
  return count;
}

std::optional<protocol::Reoffer> NextReoffer(storage::Store& store, const storage::Txn& txn,
                                           size_t max_bytes) {
  protocol::Reoffer page;
  size_t bytes = 0;
  storage::Cursor it(txn, store.returns());
  for (bool ok = it.Seek(std::string(1, kOwed)); ok && (page.changes.empty() || bytes < max_bytes);
       ok = it.Next()) {
    std::string_view value = it.value();
    if (value.size() < protocol::kSealBytes) {
      throw Error(ErrorCode::kCorruption, "owed hub change " + std::to_string(NumberOf(it.key())) +
                                              " is shorter than its seal");
    }
    page.seals.emplace_back(value.substr(0, protocol::kSealBytes));
    page.changes.emplace_back(value.substr(protocol::kSealBytes));
    page.token = NumberOf(it.key());
    bytes += value.size();
  }
  if (page.changes.empty()) return std::nullopt;
  return page;
}

void DropReoffered(storage::Store& store, storage::WriteTxn& txn, uint64_t token) {
  std::vector<std::string> keys;
  {
    storage::Cursor it(txn, store.returns());
    for (bool ok = it.Seek(std::string(1, kOwed)); ok && NumberOf(it.key()) <= token;
         ok = it.Next()) {
      keys.emplace_back(it.key());
    }
  }
  for (const std::string& key : keys) txn.Del(store.returns(), key);
}

}  // namespace osrc::node
