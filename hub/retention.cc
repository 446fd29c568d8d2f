#include "hub/retention.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <unordered_map>

#include "storage/hlc.h"

namespace osrc::hub {
namespace {

constexpr int64_t kMillisPerDay = 86'400'000;

struct Scanned {
  std::string collection;
  std::string id;
  std::string activity;           // YYYY-MM-DD
  std::vector<std::string> refs;  // record keys of the site records it references
};

// The latest non-personal date or datetime value of the record, else the day of its last write.
std::string ActivityOf(const config::CollectionSpec& spec, const storage::RecordState& state) {
  std::string latest;
  for (const auto& [name, field] : state.fields) {
    const config::FieldSpec* field_spec = spec.Find(name);
    if (field_spec == nullptr || field_spec->pii) continue;
    if (field_spec->type != config::FieldType::kDate &&
        field_spec->type != config::FieldType::kDateTime) {
      continue;
    }
    const auto* text = std::get_if<std::string>(&field.value);
    if (text != nullptr && text->size() >= 10) latest = std::max(latest, text->substr(0, 10));
  }
  if (!latest.empty()) return latest;
  auto millis = static_cast<int64_t>(storage::MillisOf(state.max_stamp()));
  return config::DateOfDay(millis / kMillisPerDay);
}

bool IsRoot(const config::CollectionSpec& spec) {
  return std::none_of(spec.fields.begin(), spec.fields.end(),
                      [](const auto& field) { return field.second.site_ref; });
}

}  // namespace

std::string RetentionCutoff(std::string_view as_of, const config::RetentionPeriod& period) {
  using namespace std::chrono;
  year_month_day day{sys_days{days{config::DayOf(as_of)}}};
  year_month_day moved = day - years{period.years} - months{period.months};
  if (!moved.ok()) moved = moved.year() / moved.month() / last;  // 29 Feb, 31st: the month's end
  return config::DateOfDay(sys_days{moved}.time_since_epoch().count() - period.days);
}

Status PlanRetention(storage::Store& store, const storage::Txn& txn, const config::Schema& schema,
                     const std::map<std::string, std::string>& periods, std::string_view as_of,
                     RetentionPlan* plan) {
  *plan = {};
  std::map<std::string, std::string> cutoffs;  // collection -> first day kept
  for (const auto& [collection, text] : periods) {
    std::string where = "hub.toml: [retention] " + collection;
    const config::CollectionSpec* spec = schema.Find(collection);
    if (spec == nullptr) return {ErrorCode::kBadInput, "no such collection", where};
    if (spec->owner != config::Owner::kSite) {
      return {ErrorCode::kBadInput, "reference data is not kept per person", where};
    }
    config::RetentionPeriod period;
    if (!config::ParseRetentionPeriod(text, &period)) {
      return {ErrorCode::kBadInput, "bad period \"" + text + "\"", where};
    }
    cutoffs[collection] = RetentionCutoff(as_of, period);
  }
  if (cutoffs.empty()) return {};

  std::vector<Scanned> records;
  std::unordered_map<std::string, std::string> root_activity;      // root key -> latest activity
  std::unordered_map<std::string, std::vector<size_t>> referrers;  // key -> records citing it
  std::set<std::string, std::less<>> roots;
  for (const auto& [name, spec] : schema.collections()) {
    if (spec.owner == config::Owner::kSite && IsRoot(spec)) roots.insert(name);
  }
  for (const auto& collection : schema.collections()) {
    // Named, not structured bindings: the lambda below captures them (clang 14 cannot).
    const std::string& name = collection.first;
    const config::CollectionSpec& spec = collection.second;
    if (spec.owner != config::Owner::kSite) continue;
    bool root = roots.contains(name);
    store.ForEachRecord(
        txn, name, [&](std::string_view, std::string_view id, const storage::RecordState& state) {
          Scanned record{name, std::string(id), ActivityOf(spec, state), {}};
          for (const auto& [field_name, field] : state.fields) {
            const config::FieldSpec* field_spec = spec.Find(field_name);
            const auto* target = std::get_if<std::string>(&field.value);
            if (field_spec == nullptr || !field_spec->site_ref || target == nullptr) continue;
            record.refs.push_back(storage::RecordKey(field_spec->collection, *target));
            referrers[record.refs.back()].push_back(records.size());
            if (roots.contains(field_spec->collection)) {
              std::string& latest = root_activity[record.refs.back()];
              latest = std::max(latest, record.activity);
            }
          }
          if (root) {
            std::string& latest = root_activity[storage::RecordKey(name, id)];
            latest = std::max(latest, record.activity);
          }
          records.push_back(std::move(record));
        });
  }

  std::vector<size_t> doomed;  // indexes into records
  std::set<std::string> chosen;
  for (size_t i = 0; i < records.size(); ++i) {
    const Scanned& record = records[i];
    auto cutoff = cutoffs.find(record.collection);
    if (cutoff == cutoffs.end()) continue;
    std::string activity;
    if (roots.contains(record.collection)) {
      activity = root_activity[storage::RecordKey(record.collection, record.id)];
    } else {
      for (const std::string& ref : record.refs) {
        auto it = root_activity.find(ref);
        if (it != root_activity.end()) activity = std::max(activity, it->second);
      }
      if (activity.empty()) activity = record.activity;  // cites no live root
    }
    if (activity >= cutoff->second) continue;
    plan->due.push_back({record.collection, record.id, activity,
                         record.collection + " " + periods.at(record.collection)});
    if (chosen.insert(storage::RecordKey(record.collection, record.id)).second) {
      doomed.push_back(i);
    }
  }
  // Then every record referencing one that goes, and theirs in turn.
  for (size_t n = 0; n < doomed.size(); ++n) {
    const Scanned& record = records[doomed[n]];
    auto it = referrers.find(storage::RecordKey(record.collection, record.id));
    if (it == referrers.end()) continue;
    for (size_t referrer : it->second) {
      const Scanned& r = records[referrer];
      if (chosen.insert(storage::RecordKey(r.collection, r.id)).second) doomed.push_back(referrer);
    }
  }
  for (size_t index : doomed) {
    plan->erase.push_back({records[index].collection, records[index].id});
  }
  return {};
}

}  // namespace osrc::hub
