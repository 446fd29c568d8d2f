// The cost of clearing an erasure's bytes from a store (storage/compact.h): fills a store to
// about --mib MiB of records, erases --erase-percent of them as an erasure would leave them
// (tombstones, pages freed), then times the compaction and reports the file before and after
// and the extra disk it needed. A benchmark, not a test.
//   build/bin/osrc-bench-compact --dir /var/tmp/compact-bench --mib 1024
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "storage/compact.h"
#include "storage/store.h"

int main(int argc, char** argv) {
  using namespace osrc;
  CLI::App app{"osrc-bench-compact: time and disk of compacting a store after an erasure"};
  std::string dir;
  size_t mib = 1024;
  double erase_percent = 1;
  app.add_option("--dir", dir, "Empty or new folder for the store")->required();
  app.add_option("--mib", mib, "Store size to fill, MiB (default 1024)");
  app.add_option("--erase-percent", erase_percent, "Share of records erased (default 1)");
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(dir);
  storage::EnvOptions options;
  options.map_size = (mib + mib / 2 + 64) << 20;
  options.durable = false;  // filling only; the compaction syncs its copy itself
  storage::Store store(dir, options);
  const std::string value(480, 'v');  // about a participant with notes
  size_t records = 0;
  const size_t target = mib << 20;
  while (store.env().used_bytes() < target) {
    storage::WriteTxn txn(store.env());
    for (int i = 0; i < 20000; ++i, ++records) {
      char id[32];
      std::snprintf(id, sizeof id, "MAS-P%010zu", records);
      txn.Put(store.records(), storage::RecordKey("participants", id), value);
    }
    txn.Commit();
  }
  size_t every = static_cast<size_t>(100 / erase_percent);
  {
    storage::WriteTxn txn(store.env());
    for (size_t n = 0; n < records; n += every) {
      char id[32];
      std::snprintf(id, sizeof id, "MAS-P%010zu", n);
      txn.Put(store.records(), storage::RecordKey("participants", id), std::string(8, '\0'));
    }
    store.PutMeta(txn, storage::kMetaCompactPending, "");
    txn.Commit();
  }
  storage::CompactStats stats;
  storage::CompactOutcome outcome = storage::CompactIfPending(dir, store, &stats);
  if (outcome != storage::CompactOutcome::kCompacted) {
    std::fprintf(stderr, "not compacted: another process has the store open\n");
    return 1;
  }
  std::printf("records %zu, erased %zu\n", records, (records + every - 1) / every);
  std::printf("data.mdb before %.1f MiB, after %.1f MiB; extra disk during the copy %.1f MiB\n",
              stats.bytes_before / 1048576.0, stats.bytes_after / 1048576.0,
              stats.bytes_after / 1048576.0);
  std::printf("compaction %.2f s (copy, fsync, rename)\n", stats.seconds);
  return 0;
}
