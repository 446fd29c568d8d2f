#include "bench/sample_hub.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.h"

namespace osrc::bench {

constexpr const char* kSites[] = {"MAS", "ANT", "MAG", "ADS"};
constexpr const char* kCountries[] = {"SA", "AE", "QA", "KW", "HK", "SG", "JP", "KR", "TW", "IT",
                                      "CA", "US", "GB", "BH", "OM", "MY", "NZ", "AU", "DE", "CY"};
constexpr const char* kStatuses[] = {"potential_migrant", "ofw", "returnee", "family_member"};
constexpr const char* kServiceTypes[] = {
    "legal_migration_counselling", "reintegration",   "savings_investment", "entrepreneurship",
    "financial_literacy",          "case_management", "legal_assistance",   "psychosocial_support"};
constexpr const char* kOutcomes[] = {"completed", "ongoing", "referred", "no_show"};

namespace {

std::string Date(std::mt19937& rng, int first_year, int years) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", first_year + static_cast<int>(rng() % years),
                static_cast<int>(rng() % 12 + 1), static_cast<int>(rng() % 28 + 1));
  return text;
}

}  // namespace

void Fill(storage::Store& store, int participants) {
  std::mt19937 rng(42);
  uint64_t stamp = 1;
  auto apply_batch = [&](int first, int last) {
    storage::WriteTxn txn(store.env());
    for (int n = first; n < last; ++n) {
      std::string site = kSites[n % 4];
      char number[16];
      std::snprintf(number, sizeof number, "%08d", n);
      std::string id = site + "-P" + number;
      std::vector<protocol::Field> fields = {
          {"birth_date", Date(rng, 1950, 55)},
          {"consent", true},
          {"destination_country", std::string(kCountries[rng() % std::size(kCountries)])},
          {"family_name", std::string("Dela Cruz")},
          {"given_name", std::string("Maria")},
          {"migration_status", std::string(kStatuses[rng() % std::size(kStatuses)])},
          {"province", std::string("Masbate")},
          {"registered_at", Date(rng, 2019, 6) + "T08:00:00Z"},
          {"sex", std::string(rng() % 2 ? "F" : "M")},
          {"site", site}};
      store.Apply(txn, {"participants", id, site, 0, ++stamp, 0, false, std::move(fields)});
      for (int s = 0; s < 3; ++s) {
        std::string service_id = site + "-S" + number + std::to_string(s);
        std::vector<protocol::Field> service = {
            {"date", Date(rng, 2019, 6)},
            {"outcome", std::string(kOutcomes[rng() % std::size(kOutcomes)])},
            {"participant_id", id},
            {"service_type", std::string(kServiceTypes[rng() % std::size(kServiceTypes)])}};
        store.Apply(txn, {"services", service_id, site, 0, ++stamp, 0, false, std::move(service)});
      }
    }
    txn.Commit();
  };
  for (int first = 0; first < participants; first += 2500) {
    apply_batch(first, std::min(participants, first + 2500));
  }
}

int SampleOptions::Scaled() const { return std::max(1000, static_cast<int>(participants * scale)); }

int SampleBenchMain(int argc, char** argv, const std::string& name, const std::string& about,
                    SampleOptions defaults, const std::function<int(const SampleOptions&)>& run) {
  SampleOptions options = defaults;
  CLI::App app{name + ": " + about};
  app.add_option("--participants", options.participants, "Participants at scale 1");
  app.add_option("--scale", options.scale, "Scale factor (0.05: a quick check)");
  app.add_option("--reps", options.reps, "Repetitions");
  try {
    app.parse(argc, argv);
    return run(options);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 1;
  }
}

double RawScanSeconds(storage::Store& store, std::string_view collection, uint64_t* checksum) {
  double start = NowSeconds();
  storage::ReadTxn txn(store.env());
  storage::Cursor cursor(txn, store.records());
  std::string prefix = collection.empty() ? "" : storage::RecordKey(collection, "");
  uint64_t sum = 0;
  for (bool more = cursor.Seek(prefix); more; more = cursor.Next()) {
    if (cursor.key().substr(0, prefix.size()) != prefix) break;
    for (char c : cursor.value()) sum += static_cast<unsigned char>(c);
  }
  *checksum = sum;
  return NowSeconds() - start;
}

}  // namespace osrc::bench
