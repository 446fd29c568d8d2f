#include "report/reports.h"

#include <algorithm>
#include <map>
#include <set>

#include "config/schema.h"

namespace osrc::report {
namespace {

constexpr std::string_view kUnknown = "unknown";
constexpr std::string_view kAgeBands[] = {"0-17", "18-24", "25-34", "35-44", "45-59", "60+"};

struct ReportSpec {
  std::string_view name;
  std::string_view collection;
  std::vector<std::string_view> dims;
};

const std::vector<ReportSpec>& Specs() {
  static const std::vector<ReportSpec> specs = {
      {"participants",
       "participants",
       {"site", "province", "sex", "age_band", "migration_status", "destination_country",
        "civil_status", "registered", "registered_quarter"}},
      {"services", "services", {"site", "service_type", "outcome", "month"}},
      {"referrals", "referrals", {"site", "agency", "status", "month"}},
      {"trainings", "attendance", {"site", "course", "attended", "completed"}},
  };
  return specs;
}

const ReportSpec* SpecOf(std::string_view name) {
  for (const ReportSpec& spec : Specs()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string TextOf(const storage::RecordState& state, std::string_view field) {
  auto it = state.fields.find(field);
  if (it == state.fields.end()) return std::string(kUnknown);
  const protocol::Value& value = it->second.value;
  if (const auto* text = std::get_if<std::string>(&value)) {
    return text->empty() ? std::string(kUnknown) : *text;
  }
  if (const auto* flag = std::get_if<bool>(&value)) return *flag ? "true" : "false";
  if (const auto* number = std::get_if<int64_t>(&value)) return std::to_string(*number);
  return std::string(kUnknown);
}

// Whole years from `birth` to `day`, both YYYY-MM-DD.
int AgeAt(std::string_view birth, std::string_view day) {
  int years = std::stoi(std::string(day.substr(0, 4))) - std::stoi(std::string(birth.substr(0, 4)));
  if (day.substr(5, 5) < birth.substr(5, 5)) --years;
  return years;
}

std::string AgeBand(std::string_view birth, std::string_view day) {
  if (!config::IsDate(birth)) return std::string(kUnknown);
  int age = AgeAt(birth, day);
  if (age < 0) return std::string(kUnknown);
  const int bounds[] = {18, 25, 35, 45, 60};
  size_t band = 0;
  while (band < std::size(bounds) && age >= bounds[band]) ++band;
  return std::string(kAgeBands[band]);
}

std::string QuarterOf(std::string_view date) {
  int month = std::stoi(std::string(date.substr(5, 2)));
  return std::string(date.substr(0, 4)) + "-Q" + std::to_string((month - 1) / 3 + 1);
}

// Levels in reading order: age bands as defined, "unknown" last, the rest sorted.
std::vector<std::string> LevelsOf(std::string_view dim, const std::set<std::string>& seen) {
  std::vector<std::string> levels;
  if (dim == "age_band") {
    for (std::string_view band : kAgeBands) {
      if (seen.contains(std::string(band))) levels.emplace_back(band);
    }
  } else {
    for (const std::string& value : seen) {
      if (value != kUnknown) levels.push_back(value);
    }
  }
  if (seen.contains(std::string(kUnknown))) levels.emplace_back(kUnknown);
  return levels;
}

}  // namespace

std::vector<std::string_view> ReportNames() {
  std::vector<std::string_view> names;
  for (const ReportSpec& spec : Specs()) names.push_back(spec.name);
  return names;
}

std::vector<std::string_view> DimensionsOf(std::string_view report) {
  const ReportSpec* spec = SpecOf(report);
  return spec == nullptr ? std::vector<std::string_view>{} : spec->dims;
}

Status BuildReport(const storage::Store& store, const storage::Txn& txn,
                   const ReportRequest& request, std::string_view today, CountTable* out) {
  const ReportSpec* spec = SpecOf(request.name);
  if (spec == nullptr) {
    std::string names;
    for (std::string_view name : ReportNames())
      names += (names.empty() ? "" : ", ") + std::string(name);
    return {ErrorCode::kBadInput, "no report \"" + request.name + "\"; reports: " + names};
  }
  for (size_t i = 0; i < request.by.size(); ++i) {
    const std::string& dim = request.by[i];
    if (std::find(spec->dims.begin(), spec->dims.end(), dim) == spec->dims.end()) {
      std::string dims;
      for (std::string_view d : spec->dims) dims += (dims.empty() ? "" : ", ") + std::string(d);
      return {ErrorCode::kBadInput,
              "report " + request.name + " has no dimension \"" + dim + "\"; it has " + dims,
              "--by"};
    }
    if (std::find(request.by.begin(), request.by.begin() + i, dim) != request.by.begin() + i) {
      return {ErrorCode::kBadInput, "dimension \"" + dim + "\" given twice", "--by"};
    }
  }
  for (const auto& [date, flag] : {std::pair{request.from, "--from"}, {request.to, "--to"}}) {
    if (!date.empty() && !config::IsDate(date)) {
      return {ErrorCode::kBadInput, "not a date (YYYY-MM-DD): " + date, flag};
    }
  }
  std::string end = request.to.empty() ? std::string(today) : request.to;

  // Trainings' courses and start dates, for attendance.
  std::map<std::string, std::pair<std::string, std::string>, std::less<>> trainings;
  if (request.name == "trainings") {
    store.ForEachRecord(
        txn, "trainings",
        [&](std::string_view, std::string_view id, const storage::RecordState& s) {
          trainings[std::string(id)] = {TextOf(s, "course"), TextOf(s, "start_date")};
        });
  }

  std::vector<std::vector<std::string>> rows;
  store.ForEachRecord(
      txn, spec->collection,
      [&](std::string_view, std::string_view id, const storage::RecordState& state) {
        std::string site(id.substr(0, id.find('-')));
        if (!request.site.empty() && site != request.site) return;
        std::string date;
        std::string course = std::string(kUnknown);
        if (request.name == "participants") {
          date = TextOf(state, "registered_at").substr(0, 10);
        } else if (request.name == "trainings") {
          auto training = trainings.find(TextOf(state, "training_id"));
          if (training != trainings.end()) std::tie(course, date) = training->second;
        } else {
          date = TextOf(state, "date");
        }
        bool dated = config::IsDate(date);
        if ((!request.from.empty() || !request.to.empty()) && !dated) return;
        if (dated && ((!request.from.empty() && date < request.from) || date > end)) return;
        std::vector<std::string> row;
        for (const std::string& dim : request.by) {
          if (dim == "site") {
            row.push_back(site);
          } else if (dim == "age_band") {
            row.push_back(AgeBand(TextOf(state, "birth_date"), end));
          } else if (dim == "registered") {
            row.push_back(dated ? date.substr(0, 4) : std::string(kUnknown));
          } else if (dim == "registered_quarter") {
            row.push_back(dated ? QuarterOf(date) : std::string(kUnknown));
          } else if (dim == "month") {
            row.push_back(dated ? date.substr(0, 7) : std::string(kUnknown));
          } else if (dim == "course") {
            row.push_back(course);
          } else {
            row.push_back(TextOf(state, dim));
          }
        }
        rows.push_back(std::move(row));
      });

  std::vector<Dimension> dims;
  std::vector<std::map<std::string, size_t, std::less<>>> index(request.by.size());
  for (size_t d = 0; d < request.by.size(); ++d) {
    std::set<std::string> seen;
    for (const auto& row : rows) seen.insert(row[d]);
    Dimension dim{request.by[d], LevelsOf(request.by[d], seen)};
    for (size_t level = 0; level < dim.levels.size(); ++level) index[d][dim.levels[level]] = level;
    dims.push_back(std::move(dim));
  }
  *out = CountTable(std::move(dims));
  std::vector<size_t> coords(request.by.size());
  for (const auto& row : rows) {
    for (size_t d = 0; d < row.size(); ++d) coords[d] = index[d].find(row[d])->second;
    out->Add(coords);
  }
  return {};
}

}  // namespace osrc::report
