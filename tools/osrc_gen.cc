// osrc-gen: deterministic sample-data generator for osrc-sync.
//
// Writes JSON Lines records for one OSRC site (collections and fields as in
// config/defaults/schema.toml), one record per line, fields sorted by name:
//   {"collection":"participants","id":"MAS-P0000001","fields":{"birth_date":"1990-04-12",...}}
// Each record depends only on (seed, site, collection, record number), so the same arguments give
// byte-identical output and batches made with --start fit together. All people are fictional.
// The output passes every schema rule: records referencing a participant or training come after
// it, of the same site, and no date lies in the future.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/version.h"

namespace osrc::tools {
namespace {

constexpr std::string_view kUsage =
    "Usage: osrc-gen --site CODE [options]\n"
    "\n"
    "Writes deterministic OSRC sample records as JSON Lines (one record per line).\n"
    "\n"
    "  --site CODE          site code: MAS, ANT, MAG or ADS (required)\n"
    "  --participants N     participants to generate (default 1000)\n"
    "  --services-per K     services per participant (default 2)\n"
    "  --referrals-per R    referrals per participant (default 0)\n"
    "  --trainings N        trainings, each with 3-8 attendance records (default 0)\n"
    "  --start S            number of the first participant (default 1)\n"
    "  --seed X             random seed (default 1)\n"
    "  --out FILE           write to FILE instead of stdout\n"
    "  --help               print this help and exit\n"
    "  --version            print the version and exit\n"
    "\n"
    "Output order: participants, services, referrals, trainings, attendance (each after\n"
    "the records it references). Dates fall between 2021-01-01 and 2023-10-31.\n"
    "Options also accept the form --name=value.\n";

struct Weighted {
  std::string_view value;
  int weight;
};

struct Site {
  std::string_view code;
  std::string_view province;
  std::span<const std::string_view> municipalities;
};

// clang-format off
constexpr std::string_view kMasbateTowns[] = {
    "Masbate City", "Aroroy", "Mobo", "Milagros", "Mandaon", "Cataingan", "Placer", "San Pascual"};
constexpr std::string_view kAntiqueTowns[] = {
    "San Jose de Buenavista", "Sibalom", "Hamtic", "Culasi", "Pandan", "Tibiao", "Bugasong",
    "Patnongon"};
constexpr std::string_view kMaguindanaoTowns[] = {
    "Datu Odin Sinsuat", "Sultan Kudarat", "Parang", "Buluan", "Shariff Aguak", "Ampatuan",
    "Datu Piang", "Upi"};
constexpr std::string_view kAgusanTowns[] = {
    "Bayugan", "Prosperidad", "San Francisco", "Trento", "Bunawan", "Rosario", "Esperanza",
    "Sibagat"};
constexpr Site kSites[] = {{"MAS", "Masbate", kMasbateTowns},
                           {"ANT", "Antique", kAntiqueTowns},
                           {"MAG", "Maguindanao", kMaguindanaoTowns},
                           {"ADS", "Agusan del Sur", kAgusanTowns}};

constexpr std::string_view kFamilyNames[] = {
    "Dela Cruz", "Santos", "Reyes", "Garcia", "Mendoza", "Bautista", "Villanueva", "Ramos",
    "Aquino", "Castillo", "Rivera", "Flores", "Gonzales", "Torres", "Fernandez", "Lopez",
    "Navarro", "Mercado", "Domingo", "Salazar", "Pascual", "Manalo", "Soriano", "Tolentino",
    "Aguilar", "Villareal", "Cabrera", "Dimaculangan", "Macaraeg", "Buenaventura", "Panganiban",
    "Lacson", "Ampatuan", "Mangudadatu", "Sinsuat", "Abubakar", "Magbanua", "Gallardo",
    "Española", "Lumbay"};
constexpr std::string_view kFemaleNames[] = {
    "Maria", "Ana", "Rosario", "Jocelyn", "Marites", "Lorna", "Cristina", "Ma. Elena",
    "Luzviminda", "Jennifer", "Rowena", "Maricel", "Analyn", "Noraida", "Aisah", "Kristine",
    "Princess", "Joy", "Liezl", "Rhea"};
constexpr std::string_view kMaleNames[] = {
    "Jose", "Juan", "Roberto", "Eduardo", "Ramon", "Rodel", "Jomar", "Mark Anthony", "John Paul",
    "Reynaldo", "Danilo", "Arnel", "Michael", "Norhan", "Abdul", "Bong", "Romeo", "Christian",
    "Jerome", "Alvin"};
constexpr Weighted kCivilStatuses[] = {
    {"single", 40}, {"married", 45}, {"widowed", 5}, {"separated", 10}};
constexpr Weighted kMigrationStatuses[] = {
    {"potential_migrant", 35}, {"ofw", 25}, {"returnee", 30}, {"family_member", 10}};
constexpr std::string_view kOccupations[] = {
    "domestic worker", "seafarer", "caregiver", "construction worker", "farmer", "fisherfolk",
    "nurse", "driver", "factory worker", "cook", "electrician", "welder", "sales clerk",
    "housekeeper", "unemployed", "teacher"};
constexpr std::string_view kCountries[] = {
    "SA", "AE", "QA", "KW", "HK", "SG", "JP", "TW", "US", "CA", "IT", "GB", "MY", "BH", "OM", "KR"};

constexpr std::string_view kServiceTypes[] = {
    "legal_migration_counselling", "reintegration_advice", "savings_investment",
    "entrepreneurship", "financial_literacy_training", "case_management", "legal_services",
    "psychosocial_support", "referral"};
constexpr Weighted kOutcomes[] = {
    {"completed", 60}, {"ongoing", 20}, {"referred", 12}, {"no_show", 8}};
constexpr std::string_view kStaff[] = {
    "Liza Macaraig", "Ramil Obusan", "Grace Villaflor", "Norma Lagdameo", "Jun Catapang",
    "Sittie Balindong", "Arlene Dumalagan", "Joel Panaligan", "Mylene Sarmiento", "Rey Abellana"};
constexpr std::string_view kNotes[] = {
    "Client asked about licensed recruitment agencies and job order verification.",
    "Discussed pre-departure requirements and contract terms.",
    "Client returned early from abroad and is looking for local work.",
    "Prepared a household budget and savings plan with the client.",
    "Client interested in starting a small sari-sari store.",
    "Explained OWWA membership benefits and how to renew.",
    "Client reported unpaid wages from previous employer abroad.",
    "Family member asked for help contacting a relative working abroad.",
    "Client attended counselling session and felt more at ease.",
    "Follow-up visit scheduled to review business plan.",
    "Client needs assistance with passport application documents.",
    "Advised client on warning signs of illegal recruitment.",
    "Client completed the financial literacy module.",
    "Discussed skills training options for reintegration.",
    "Client did not bring required documents; asked to return."};

constexpr std::string_view kAgencies[] = {"DMW", "OWWA", "TESDA", "DSWD", "DOLE", "DTI", "PAO"};
constexpr std::string_view kReasons[] = {
    "Skills training for reintegration", "Livelihood assistance", "Welfare assistance claim",
    "Legal assistance for contract violation", "Scholarship for dependent",
    "Psychosocial counselling", "Verification of job offer", "Starter kit for small business",
    "Repatriation assistance", "Emergency financial aid"};
constexpr Weighted kReferralStatuses[] = {
    {"pending", 25}, {"accepted", 30}, {"completed", 35}, {"declined", 10}};

constexpr std::string_view kCourses[] = {
    "fin_lit_basic", "predeparture_orientation", "entrep_basic", "reintegration_planning", "safe_migration_peos"};
constexpr std::string_view kFacilitators[] = {
    "Teresita Alcantara", "Ronaldo Magsino", "Cecilia Ybañez", "Hadji Alonto", "Marivic Ocampo",
    "Dennis Robles"};
// clang-format on

constexpr int64_t kSecondsPerDay = 86400;
constexpr uint64_t kAttendanceSlotsPerTraining = 8;
constexpr uint64_t kMaxId = 9'999'999;  // ids have 7 digits (trainings 5)
constexpr std::size_t kFlushBytes = 1 << 20;

// Days since 1970-01-01 of a Gregorian date, and back (H. Hinnant's algorithms).
constexpr int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

std::string FormatDate(int64_t days) {  // days >= 0 here
  const int64_t z = days + 719468;
  const int64_t era = z / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", static_cast<int>(yoe + era * 400 + (m <= 2)),
                static_cast<int>(m), static_cast<int>(doy - (153 * mp + 2) / 5 + 1));
  return text;
}

std::string FormatDateTime(int64_t seconds) {
  const int second_of_day = static_cast<int>(seconds % kSecondsPerDay);
  char text[40];
  std::snprintf(text, sizeof text, "T%02d:%02d:%02dZ", second_of_day / 3600,
                second_of_day / 60 % 60, second_of_day % 60);
  return FormatDate(seconds / kSecondsPerDay) + text;
}

// Registrations, services and trainings fall in a fixed past range, so output stays the same
// for the same arguments and no date is ahead of any clock it is imported under (the schema
// refuses a registration more than a day ahead; the tests' fake clock stands at 2023-11-14 and a
// test site's clock runs three years behind).
constexpr int64_t kFirstDay = DaysFromCivil(2021, 1, 1);
constexpr int64_t kLastDay = DaysFromCivil(2023, 10, 31);
// Age at registration is 18 to 60 years, whatever the leap days in between.
constexpr int64_t kMinAgeDays = 18 * 365 + 6;
constexpr int64_t kMaxAgeDays = 61 * 365 + 14;

// splitmix64: a tiny mixer that gives the same numbers on every platform and library.
uint64_t Mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream, uint64_t number)
      : state_(Mix(Mix(Mix(seed) ^ stream) ^ number)) {}

  uint64_t Below(uint64_t n) { return (state_ = Mix(state_)) % n; }
  int64_t Between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Below(hi - lo + 1)); }
  bool Percent(uint64_t p) { return Below(100) < p; }
  std::string_view Pick(std::span<const std::string_view> list) { return list[Below(list.size())]; }
  std::string_view Pick(std::span<const Weighted> list) {
    int total = 0;
    for (const Weighted& w : list) total += w.weight;
    int roll = static_cast<int>(Below(total));
    for (const Weighted& w : list) {
      if (roll < w.weight) return w.value;
      roll -= w.weight;
    }
    return list.back().value;
  }

 private:
  uint64_t state_;
};

// JSON string with the mandatory escapes; other bytes (UTF-8 included) pass through.
void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
      out += escape;
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string MakeId(std::string_view site, char prefix, uint64_t number, int width) {
  char text[40];
  std::snprintf(text, sizeof text, "%.*s-%c%0*llu", static_cast<int>(site.size()), site.data(),
                prefix, width, static_cast<unsigned long long>(number));
  return text;
}

// Collects the fields of one record, then appends it as a JSON line with sorted field names.
class RecordWriter {
 public:
  explicit RecordWriter(std::FILE* out) : out_(out) { buffer_.reserve(kFlushBytes + 4096); }

  void Text(std::string_view name, std::string_view value) {
    std::string json;
    AppendJsonString(json, value);
    fields_.push_back({name, std::move(json)});
  }
  void Bool(std::string_view name, bool value) {
    fields_.push_back({name, value ? "true" : "false"});
  }

  void Emit(std::string_view collection, std::string_view id) {
    std::sort(fields_.begin(), fields_.end(),
              [](const Field& a, const Field& b) { return a.name < b.name; });
    buffer_ += "{\"collection\":";
    AppendJsonString(buffer_, collection);
    buffer_ += ",\"id\":";
    AppendJsonString(buffer_, id);
    buffer_ += ",\"fields\":{";
    for (const Field& field : fields_) {
      if (&field != &fields_.front()) buffer_ += ',';
      AppendJsonString(buffer_, field.name);
      buffer_ += ':';
      buffer_ += field.json;
    }
    buffer_ += "}}\n";
    fields_.clear();
    if (buffer_.size() >= kFlushBytes) Flush();
  }

  // Writes what is buffered; returns false if any write failed.
  bool Finish() {
    Flush();
    return std::fflush(out_) == 0 && !std::ferror(out_);
  }

 private:
  struct Field {
    std::string_view name;
    std::string json;
  };

  void Flush() {
    std::fwrite(buffer_.data(), 1, buffer_.size(), out_);
    buffer_.clear();
  }

  std::FILE* out_;
  std::string buffer_;
  std::vector<Field> fields_;
};

struct Options {
  const Site* site = nullptr;
  uint64_t participants = 1000;
  uint64_t services_per = 2;
  uint64_t referrals_per = 0;
  uint64_t trainings = 0;
  uint64_t start = 1;
  uint64_t seed = 1;
  std::string out_path;
};

constexpr struct {
  std::string_view flag;
  uint64_t Options::*member;
} kNumberFlags[] = {{"--participants", &Options::participants},
                    {"--services-per", &Options::services_per},
                    {"--referrals-per", &Options::referrals_per},
                    {"--trainings", &Options::trainings},
                    {"--start", &Options::start},
                    {"--seed", &Options::seed}};

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "osrc-gen: %s\nTry 'osrc-gen --help'.\n", message.c_str());
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      std::exit(0);
    }
    if (arg == "--version") {
      std::puts(VersionLine("osrc-gen").c_str());
      std::exit(0);
    }
    const auto eq = arg.find('=');
    const std::string flag(arg.substr(0, eq));
    const auto number_flag = std::find_if(std::begin(kNumberFlags), std::end(kNumberFlags),
                                          [&](const auto& f) { return f.flag == flag; });
    const bool is_number = number_flag != std::end(kNumberFlags);
    if (!is_number && flag != "--site" && flag != "--out") Fail("unknown option '" + flag + "'");
    if (eq == std::string_view::npos && i + 1 >= argc) Fail("missing value for " + flag);
    const std::string_view value = eq == std::string_view::npos ? argv[++i] : arg.substr(eq + 1);
    if (is_number) {
      uint64_t& target = options.*(number_flag->member);
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), target);
      if (value.empty() || error != std::errc() || end != value.data() + value.size()) {
        Fail(flag + " expects a non-negative integer, got '" + std::string(value) + "'");
      }
    } else if (flag == "--site") {
      options.site = nullptr;
      for (const Site& site : kSites) {
        if (site.code == value) options.site = &site;
      }
      if (options.site == nullptr) {
        Fail("unknown site '" + std::string(value) + "' (expected MAS, ANT, MAG or ADS)");
      }
    } else {
      if (value.empty()) Fail("--out expects a file name");
      options.out_path = value;
    }
  }
  if (options.site == nullptr) Fail("--site is required");
  if (options.start < 1) Fail("--start must be at least 1");
  // Keep every id within its 7 digits: service and referral numbers grow with the participant's.
  const uint64_t per = std::max({uint64_t{1}, options.services_per, options.referrals_per});
  if (options.start > kMaxId || options.participants > kMaxId ||
      options.start + options.participants - 1 > kMaxId / per) {
    Fail("ids would exceed 7 digits; lower --start, --participants or the per-participant counts");
  }
  if (options.trainings > 99'999) Fail("--trainings must be at most 99999");
  return options;
}

class Generator {
 public:
  Generator(const Options& options, RecordWriter& writer)
      : o_(options), site_(*options.site), writer_(writer) {}

  void Run() {
    const uint64_t end = o_.start + o_.participants;
    for (uint64_t p = o_.start; p < end; ++p) Participant(p);
    for (uint64_t p = o_.start; p < end; ++p) {
      for (uint64_t j = 0; j < o_.services_per; ++j) Service(p, (p - 1) * o_.services_per + j + 1);
    }
    for (uint64_t p = o_.start; p < end; ++p) {
      for (uint64_t j = 0; j < o_.referrals_per; ++j) {
        Referral(p, (p - 1) * o_.referrals_per + j + 1);
      }
    }
    for (uint64_t t = 1; t <= o_.trainings; ++t) Training(t);
    for (uint64_t t = 1; t <= o_.trainings; ++t) Attendance(t);
  }

 private:
  // One random stream per (site, record kind, record number).
  Rng Stream(char kind, uint64_t number) const {
    const uint64_t site_index = static_cast<uint64_t>(&site_ - kSites);
    return Rng(o_.seed, (site_index + 1) << 8 | static_cast<unsigned char>(kind), number);
  }
  std::string Id(char prefix, uint64_t number) const {
    return MakeId(site_.code, prefix, number, prefix == 'T' ? 5 : 7);
  }
  int64_t RegisteredAt(uint64_t p) const {
    return Stream('r', p).Between(kFirstDay * kSecondsPerDay, (kLastDay + 1) * kSecondsPerDay - 1);
  }
  // A day in the year after participant p registered, and no later than kLastDay.
  int64_t DayAfterRegistration(Rng& rng, uint64_t p) const {
    const int64_t registered = RegisteredAt(p) / kSecondsPerDay;
    return rng.Between(registered, std::min(registered + 365, kLastDay));
  }

  void Participant(uint64_t p) {
    Rng rng = Stream('P', p);
    const bool female = rng.Percent(55);
    const int64_t registered_at = RegisteredAt(p);
    char phone[16];
    std::snprintf(phone, sizeof phone, "09%09llu",
                  static_cast<unsigned long long>(rng.Below(1'000'000'000)));
    writer_.Text("site", site_.code);
    writer_.Text("family_name", rng.Pick(kFamilyNames));
    writer_.Text("given_name", rng.Pick(female ? kFemaleNames : kMaleNames));
    writer_.Text("sex", female ? "F" : "M");
    writer_.Text("birth_date", FormatDate(registered_at / kSecondsPerDay -
                                          rng.Between(kMinAgeDays, kMaxAgeDays)));
    writer_.Text("civil_status", rng.Pick(kCivilStatuses));
    writer_.Text("province", site_.province);
    writer_.Text("municipality", rng.Pick(site_.municipalities));
    writer_.Text("phone", phone);
    writer_.Text("occupation", rng.Pick(kOccupations));
    writer_.Text("migration_status", rng.Pick(kMigrationStatuses));
    writer_.Text("destination_country", rng.Pick(kCountries));
    writer_.Bool("consent", true);
    writer_.Text("registered_at", FormatDateTime(registered_at));
    writer_.Emit("participants", Id('P', p));
  }

  void Service(uint64_t p, uint64_t number) {
    Rng rng = Stream('S', number);
    writer_.Text("participant_id", Id('P', p));
    writer_.Text("service_type", rng.Pick(kServiceTypes));
    writer_.Text("date", FormatDate(DayAfterRegistration(rng, p)));
    writer_.Text("staff", rng.Pick(kStaff));
    writer_.Text("outcome", rng.Pick(kOutcomes));
    writer_.Text("notes", rng.Pick(kNotes));
    writer_.Emit("services", Id('S', number));
  }

  void Referral(uint64_t p, uint64_t number) {
    Rng rng = Stream('R', number);
    writer_.Text("participant_id", Id('P', p));
    writer_.Text("agency", rng.Pick(kAgencies));
    writer_.Text("date", FormatDate(DayAfterRegistration(rng, p)));
    writer_.Text("reason", rng.Pick(kReasons));
    writer_.Text("status", rng.Pick(kReferralStatuses));
    writer_.Emit("referrals", Id('R', number));
  }

  void Training(uint64_t t) {
    Rng rng = Stream('T', t);
    const int64_t start = rng.Between(kFirstDay, kLastDay - 4);
    const std::string town(rng.Pick(site_.municipalities));
    const std::string venues[] = {town + " Municipal Hall", "Barangay Hall, " + town,
                                  "OSRC " + std::string(site_.province) + " Training Room"};
    writer_.Text("course", rng.Pick(kCourses));
    writer_.Text("start_date", FormatDate(start));
    writer_.Text("end_date", FormatDate(start + rng.Between(0, 4)));
    writer_.Text("venue", venues[rng.Below(3)]);
    writer_.Text("facilitator", rng.Pick(kFacilitators));
    writer_.Emit("trainings", Id('T', t));
  }

  // 3 to 8 distinct participants of this batch attend training t; their attendance records are
  // numbered from (t - 1) * 8 + 1.
  void Attendance(uint64_t t) {
    if (o_.participants == 0) return;
    Rng rng = Stream('A', t);
    const uint64_t count = std::min<uint64_t>(3 + rng.Below(6), o_.participants);
    const uint64_t offset = rng.Below(o_.participants);
    const uint64_t stride = o_.participants / count;
    for (uint64_t j = 0; j < count; ++j) {
      const uint64_t number = (t - 1) * kAttendanceSlotsPerTraining + j + 1;
      Rng record = Stream('a', number);
      const bool attended = record.Percent(90);
      writer_.Text("training_id", Id('T', t));
      writer_.Text("participant_id", Id('P', o_.start + (offset + j * stride) % o_.participants));
      writer_.Bool("attended", attended);
      writer_.Bool("completed", attended && record.Percent(85));
      writer_.Emit("attendance", Id('A', number));
    }
  }

  const Options& o_;
  const Site& site_;
  RecordWriter& writer_;
};

int Run(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv);
  std::FILE* out = stdout;
  if (!options.out_path.empty()) {
    out = std::fopen(options.out_path.c_str(), "wb");
    if (out == nullptr) {
      std::perror(("osrc-gen: cannot open " + options.out_path).c_str());
      return 1;
    }
  }
  RecordWriter writer(out);
  Generator(options, writer).Run();
  bool ok = writer.Finish();
  if (out != stdout) ok = std::fclose(out) == 0 && ok;
  if (!ok) {
    std::fprintf(stderr, "osrc-gen: write error\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace osrc::tools

// The last resort: a failure is one line and exit 1, never an abort.
int main(int argc, char** argv) {
  try {
    return osrc::tools::Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "osrc-gen: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "osrc-gen: unknown failure\n";
  }
  return 1;
}
