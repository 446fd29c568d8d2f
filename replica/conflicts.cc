#include "replica/conflicts.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "base/text.h"
#include "config/record_json.h"

namespace osrc::replica {
namespace {

constexpr std::string_view kMasked = "(personal)";

std::string Be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

// "2026-12-04T13:30:00Z+2": the HLC stamp's wall time and its counter when not zero.
std::string StampText(uint64_t stamp) {
  std::string text = UtcTimeOf(stamp >> 16);
  if ((stamp & 0xffff) != 0) text += "+" + std::to_string(stamp & 0xffff);
  return text;
}

}  // namespace

std::string ConflictKey(const storage::StoredConflict& c) {
  std::string key = c.collection;
  key += '\0';
  key += c.id;
  key += '\0';
  key += c.conflict.field;
  key += '\0';
  key += Be64(c.conflict.loser.stamp);
  key += c.conflict.loser.origin;
  return key;
}

std::string ConflictId(const storage::StoredConflict& c) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char byte : ConflictKey(c)) {
    hash ^= byte;
    hash *= 1099511628211ull;
  }
  return HexOf(Be64(hash));
}

bool ConflictFilter::Matches(const storage::StoredConflict& c) const {
  if (!collection.empty() && c.collection != collection) return false;
  if (!field.empty() && c.conflict.field != field) return false;
  if (!site.empty() && c.id.substr(0, c.id.find('-')) != site) return false;
  return true;
}

bool IsPersonal(const config::Schema& schema, const storage::StoredConflict& c) {
  const config::CollectionSpec* spec = schema.Find(c.collection);
  if (spec == nullptr) return false;
  const config::FieldSpec* field = spec->Find(c.conflict.field);
  return field != nullptr && field->pii;
}

std::string ConflictLine(const config::Schema& schema, const storage::StoredConflict& c,
                         bool show_personal, bool as_json) {
  const storage::Conflict& k = c.conflict;
  const bool masked = !show_personal && IsPersonal(schema, c);
  auto value_json = [&](const protocol::Value& value) -> nlohmann::json {
    if (masked) return kMasked;
    return nlohmann::json::parse(config::ValueJson(value));
  };
  auto value_text = [&](const protocol::Value& value) {
    return masked ? std::string(kMasked) : config::ValueJson(value);
  };
  if (as_json) {
    nlohmann::ordered_json line;
    line["conflict"] = ConflictId(c);
    line["collection"] = c.collection;
    line["id"] = c.id;
    line["field"] = k.field;
    line["personal"] = IsPersonal(schema, c);
    line["winner"] = {{"origin", k.winner.origin},
                      {"stamp", k.winner.stamp},
                      {"time", UtcTimeOf(k.winner.stamp >> 16)},
                      {"deleted", k.winner_deleted},
                      {"value", value_json(k.winner_value)}};
    line["loser"] = {{"origin", k.loser.origin},
                     {"stamp", k.loser.stamp},
                     {"time", UtcTimeOf(k.loser.stamp >> 16)},
                     {"value", value_json(k.loser_value)}};
    return line.dump() + "\n";
  }
  std::ostringstream out;
  out << ConflictId(c) << " " << c.collection << "/" << c.id << " field " << k.field << ": kept "
      << (k.winner_deleted ? "delete" : value_text(k.winner_value)) << " from " << k.winner.origin
      << " at " << StampText(k.winner.stamp) << ", lost " << value_text(k.loser_value) << " from "
      << k.loser.origin << " at " << StampText(k.loser.stamp) << "\n";
  return out.str();
}

void ForEachMatchingConflict(const storage::Store& store, const storage::Txn& txn,
                             const ConflictFilter& filter,
                             const std::function<void(const storage::StoredConflict&)>& visit) {
  store.ForEachConflict(txn, [&](const storage::StoredConflict& c) {
    if (filter.Matches(c)) visit(c);
  });
}

}  // namespace osrc::replica
