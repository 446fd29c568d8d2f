#include "report/reports.h"

#include <algorithm>
#include <functional>
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

using Fields = std::vector<storage::FieldView>;

// The live records of `collection`, each with its fields as views: a scan that builds no record
// states, for reports over millions of records.
void ScanLive(const storage::Store& store, const storage::Txn& txn, std::string_view collection,
              const std::function<void(std::string_view id, const Fields&)>& visit) {
  storage::Cursor cursor(txn, store.records());
  std::string prefix = storage::RecordKey(collection, "");
  Fields fields;
  for (bool more = cursor.Seek(prefix); more; more = cursor.Next()) {
    std::string_view key = cursor.key();
    if (!key.starts_with(prefix)) break;
    storage::DecodeFieldViews(cursor.value(), &fields);
    if (!fields.empty()) visit(key.substr(prefix.size()), fields);
  }
}

// A field's value as report text: "unknown" when unset or empty; numbers go to `scratch`.
std::string_view TextOf(const Fields& fields, std::string_view name, std::string* scratch) {
  for (const storage::FieldView& field : fields) {
    if (field.name != name) continue;
    switch (field.tag) {
      case 1:
        return "false";
      case 2:
        return "true";
      case 3:
        return *scratch = std::to_string(field.number);
      case 5:
        return field.text.empty() ? kUnknown : field.text;
      default:
        return kUnknown;
    }
  }
  return kUnknown;
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
  std::string scratch;
  std::map<std::string, std::pair<std::string, std::string>, std::less<>> trainings;
  if (request.name == "trainings") {
    ScanLive(store, txn, "trainings", [&](std::string_view id, const Fields& fields) {
      trainings[std::string(id)] = {std::string(TextOf(fields, "course", &scratch)),
                                    std::string(TextOf(fields, "start_date", &scratch))};
    });
  }

  // Each dimension's values as first met, and the count of each combination of them.
  size_t dim_count = request.by.size();
  std::vector<std::map<std::string, uint32_t, std::less<>>> values(dim_count);
  std::map<std::vector<uint32_t>, uint64_t> combinations;
  std::vector<uint32_t> key(dim_count);
  ScanLive(store, txn, spec->collection, [&](std::string_view id, const Fields& fields) {
    std::string_view site = config::SiteOfId(id);
    if (!request.site.empty() && site != request.site) return;
    std::string date;
    std::string_view course = kUnknown;
    if (request.name == "participants") {
      date = TextOf(fields, "registered_at", &scratch).substr(0, 10);
    } else if (request.name == "trainings") {
      auto training = trainings.find(TextOf(fields, "training_id", &scratch));
      if (training != trainings.end()) {
        course = training->second.first;
        date = training->second.second;
      }
    } else {
      date = TextOf(fields, "date", &scratch);
    }
    bool dated = config::IsDate(date);
    if ((!request.from.empty() || !request.to.empty()) && !dated) return;
    if (dated && ((!request.from.empty() && date < request.from) || date > end)) return;
    for (size_t d = 0; d < dim_count; ++d) {
      const std::string& dim = request.by[d];
      std::string computed;
      std::string_view value;
      if (dim == "site") {
        value = site;
      } else if (dim == "age_band") {
        value = computed = AgeBand(TextOf(fields, "birth_date", &scratch), end);
      } else if (dim == "registered") {
        value = dated ? std::string_view(date).substr(0, 4) : kUnknown;
      } else if (dim == "registered_quarter") {
        value = dated ? std::string_view(computed = QuarterOf(date)) : kUnknown;
      } else if (dim == "month") {
        value = dated ? std::string_view(date).substr(0, 7) : kUnknown;
      } else if (dim == "course") {
        value = course;
      } else {
        value = TextOf(fields, dim, &scratch);
      }
      auto it = values[d].find(value);
      if (it == values[d].end()) {
        it = values[d].emplace(std::string(value), static_cast<uint32_t>(values[d].size())).first;
      }
      key[d] = it->second;
    }
    ++combinations[key];
  });

  std::vector<Dimension> dims;
  std::vector<std::vector<size_t>> level_of(dim_count);  // first-met number -> level
  for (size_t d = 0; d < dim_count; ++d) {
    std::set<std::string> seen;
    for (const auto& [value, number] : values[d]) seen.insert(value);
    Dimension dim{request.by[d], LevelsOf(request.by[d], seen)};
    level_of[d].resize(values[d].size());
    for (size_t level = 0; level < dim.levels.size(); ++level) {
      level_of[d][values[d].find(dim.levels[level])->second] = level;
    }
    dims.push_back(std::move(dim));
  }
  *out = CountTable(std::move(dims));
  std::vector<size_t> coords(dim_count);
  for (const auto& [numbers, count] : combinations) {
    for (size_t d = 0; d < dim_count; ++d) coords[d] = level_of[d][numbers[d]];
    out->Add(coords, count);
  }
  return {};
}

}  // namespace osrc::report
