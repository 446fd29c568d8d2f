#include "hub/retention_command.h"

#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "hub/audit.h"
#include "hub/erasures.h"
#include "hub/hub.h"
#include "hub/retention.h"

namespace osrc::hub {
namespace {

// Erasure orders per transaction: a crash keeps whole batches, and a re-run finishes the rest.
constexpr size_t kEraseBatch = 1000;

void PrintPlan(const RetentionPlan& plan, bool as_json) {
  for (const RetentionItem& item : plan.due) {
    if (as_json) {
      nlohmann::ordered_json line = {{"collection", item.collection},
                                     {"id", item.id},
                                     {"last_activity", item.last_activity},
                                     {"rule", item.rule}};
      std::cout << line.dump() << "\n";
    } else {
      std::cout << item.collection << "/" << item.id << "  last activity " << item.last_activity
                << "  (" << item.rule << ")\n";
    }
  }
}

std::string CountsOf(const std::vector<replica::ErasedRecord>& records) {
  std::map<std::string, size_t> counts;
  for (const replica::ErasedRecord& record : records) ++counts[record.collection];
  std::string out;
  for (const auto& [collection, count] : counts) {
    out += (out.empty() ? "" : ", ") + std::to_string(count) + " " + collection;
  }
  return out.empty() ? "none" : out;
}

}  // namespace

Status CommandRetention(const std::string& dir, const RetentionOptions& options) {
  if (!options.as_of.empty() && !config::IsDate(options.as_of)) {
    return {ErrorCode::kBadInput, "must be a day, YYYY-MM-DD", "--as-of " + options.as_of};
  }
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  const std::map<std::string, std::string>& periods = hub->config().retention;
  if (periods.empty()) {
    std::cout << "no [retention] periods in hub.toml: every record is kept\n";
    return {};
  }
  std::string as_of =
      options.as_of.empty()
          ? config::DateOfDay(static_cast<int64_t>(hub->clock().NowMillis()) / 86'400'000)
          : options.as_of;
  RetentionPlan plan;
  {
    storage::ReadTxn txn(hub->store().env());
    OSRC_RETURN_IF_ERROR(PlanRetention(hub->store(), txn, hub->schema(), periods, as_of, &plan));
  }
  PrintPlan(plan, options.as_json);
  std::string rules;
  for (const auto& [collection, period] : periods) {
    rules += (rules.empty() ? "" : ", ") + collection + " " + period;
  }
  std::ostream& summary = options.as_json ? std::cerr : std::cout;
  if (options.dry_run) {
    summary << "as of " << as_of << " (" << rules << "): " << plan.due.size()
            << " records due; erasing them would erase " << plan.erase.size() << " records ("
            << CountsOf(plan.erase) << ")\n";
    return {};
  }
  if (plan.erase.empty()) {
    summary << "as of " << as_of << " (" << rules << "): nothing to erase\n";
    return {};
  }
  std::string actor = CommandLineActor();
  std::string reason = "retention as of " + as_of + ": " + rules;
  OSRC_RETURN_IF_ERROR(AppendAudit(
      dir, actor, "retention",
      std::to_string(plan.erase.size()) + " records (" + CountsOf(plan.erase) + ")", reason));
  replica::Writer writer = hub->writer();
  std::vector<replica::ErasedRecord> erased;
  for (size_t first = 0; first < plan.erase.size(); first += kEraseBatch) {
    std::vector<replica::ErasedRecord> batch(
        plan.erase.begin() + static_cast<std::ptrdiff_t>(first),
        plan.erase.begin() +
            static_cast<std::ptrdiff_t>(std::min(plan.erase.size(), first + kEraseBatch)));
    replica::EraseResult result;
    Status status = replica::EraseAgain(writer, batch, &result);
    if (status.ok()) status = AppendErasures(dir, result.erased, actor, reason);
    if (!status.ok()) {
      return status.WithContext("after erasing " + std::to_string(erased.size()) + " of " +
                                std::to_string(plan.erase.size()) +
                                " records (run again to finish)");
    }
    erased.insert(erased.end(), result.erased.begin(), result.erased.end());
  }
  summary << "as of " << as_of << " (" << rules << "): erased " << erased.size() << " records ("
          << CountsOf(erased) << "); the sites erase them when they next sync\n";
  std::string compacted = replica::CompactAfterErasure(dir, hub->store());
  if (!compacted.empty()) summary << compacted << "\n";
  return {};
}

}  // namespace osrc::hub
