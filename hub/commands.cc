#include "hub/commands.h"

#include <fstream>
#include <iostream>

#include "base/text.h"
#include "config/data_config.h"
#include "hub/audit.h"
#include "hub/enrolment.h"
#include "hub/erasures.h"
#include "hub/metrics.h"
#include "hub/sites.h"
#include "hub/status.h"
#include "replica/data_folder.h"
#include "replica/record_cli.h"

namespace osrc::hub {

Status CommandInit(const InitOptions& options) {
  std::string public_key;
  OSRC_RETURN_IF_ERROR(InitHub(options, &public_key));
  std::string bind = options.bind.empty() ? config::HubConfig{}.bind : options.bind;
  std::string port = bind.substr(bind.rfind(':') + 1);
  std::cout << "initialised hub in " << options.dir << "\n"
            << "point each site at this hub with (HUB-ADDRESS: this machine as sites reach it):\n"
            << "  osrc-node config set-hub --data " << replica::kPackageNodeDir
            << " --hub tcp://HUB-ADDRESS:" << (port == "*" ? "PORT" : port) << " --hub-key "
            << ShellQuoted(public_key) << "\n"
            << public_key << "\n";
  return {};
}

Status CommandEnrol(const std::string& dir, const EnrolOptions& options) {
  std::vector<Enrolment> sites;
  if (!options.file.empty()) {
    if (!options.site.empty() || !options.key.empty()) {
      return {ErrorCode::kBadInput, "give --file, or --site and --key, not both", "--file"};
    }
    OSRC_RETURN_IF_ERROR(ReadEnrolmentFile(options.file, &sites));
  } else {
    if (options.site.empty() || options.key.empty()) {
      return {ErrorCode::kBadInput, "give --site and --key (or --file)", "enrol"};
    }
    sites.push_back({options.site, options.key, options.name, "--site " + options.site, "--key"});
  }
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  std::vector<std::string> replaced;
  OSRC_RETURN_IF_ERROR(EnrolSites(*hub, sites, options.replace, &replaced));
  std::string target = options.file.empty()
                           ? "site " + options.site
                           : std::to_string(sites.size()) + " sites from " + options.file;
  OSRC_RETURN_IF_ERROR(AppendAudit(dir, CommandLineActor(),
                                   replaced.empty() ? "enrol" : "enrol (replace key)", target));
  if (!options.file.empty()) {
    std::cout << "enrolled " << sites.size() << " sites from " << options.file;
    if (!replaced.empty()) std::cout << "; replaced the keys of " << replaced.size();
    std::cout << "\n";
  } else {
    std::cout << (replaced.empty() ? "enrolled site " : "replaced the key of site ") << options.site
              << "\n";
  }
  return {};
}

Status CommandRevoke(const std::string& dir, const std::string& site) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  OSRC_RETURN_IF_ERROR(storage::WithGrowth(hub->store().env(), [&]() -> Status {
    storage::WriteTxn txn(hub->store().env());
    auto entry = GetSite(hub->store(), txn, site);
    if (!entry) return {ErrorCode::kNotFound, "no such site", "--site " + site};
    entry->revoked = true;
    PutEnrolment(hub->store(), txn, *entry);
    txn.Commit();
    return {};
  }));
  OSRC_RETURN_IF_ERROR(AppendAudit(dir, CommandLineActor(), "revoke", "site " + site));
  std::cout << "revoked site " << site << "\n";
  return {};
}

Status ImportReference(Hub& hub, const std::string& collection, replica::RecordFormat format,
                       std::string_view text, const std::string& actor, const std::string& source,
                       replica::ImportStats* stats, replica::ImportErrors* errors) {
  const config::CollectionSpec* spec = hub.schema().Find(collection);
  if (spec == nullptr || spec->owner != config::Owner::kHub) {
    return {ErrorCode::kBadInput, "not a reference collection", collection};
  }
  OSRC_RETURN_IF_ERROR(
      AppendAudit(hub.dir(), actor, "reference import", collection + " from " + source));
  replica::Writer writer = hub.writer();
  replica::ImportOptions options{.format = format, .collection = collection};
  Status status = storage::WithGrowth(hub.store().env(), [&] {
    return replica::ImportRecords(writer, text, options, stats, errors);
  });
  return status.ok() ? status : errors->Summary(source);
}

Status CommandRefImport(const std::string& dir, const replica::ImportArgs& args) {
  const std::string& collection = args.collection;
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  const config::CollectionSpec* spec = hub->schema().Find(collection);
  if (spec == nullptr || spec->owner != config::Owner::kHub) {
    return {ErrorCode::kBadInput, "not a reference collection", collection};
  }
  OSRC_RETURN_IF_ERROR(
      AppendAudit(dir, CommandLineActor(), "reference import", collection + " from " + args.file));
  replica::Writer writer = hub->writer();
  replica::ImportStats stats;
  OSRC_RETURN_IF_ERROR(replica::ImportWithReport(writer, args, "osrc-hub", &stats));
  std::cout << "imported " << stats.lines << " " << collection << " records, " << stats.changed
            << " changed; reference version " << stats.head << "\n";
  return {};
}

namespace {

// A central write to a site's record needs the site enrolled (now or once: a revoked site's
// records may still be corrected here); otherwise the id is mistyped or the site unknown.
Status CheckSiteEnrolled(Hub& hub, const std::string& collection, const std::string& id) {
  const config::CollectionSpec* spec = hub.schema().Find(collection);
  if (spec == nullptr || spec->owner != config::Owner::kSite) return {};
  std::string site(config::SiteOfId(id));
  storage::ReadTxn txn(hub.store().env());
  if (GetSite(hub.store(), txn, site)) return {};
  return {ErrorCode::kBadInput,
          "site \"" + site + "\" is not enrolled at this hub (osrc-hub status lists the sites)",
          protocol::RecordName(collection, id)};
}

}  // namespace

Status CommandPut(const std::string& dir, const std::string& collection, const std::string& id,
                  const std::string& json) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  OSRC_RETURN_IF_ERROR(CheckSiteEnrolled(*hub, collection, id));
  OSRC_RETURN_IF_ERROR(
      AppendAudit(dir, CommandLineActor(), "correction", protocol::RecordName(collection, id)));
  replica::Writer writer = hub->writer();
  bool changed = false;
  OSRC_RETURN_IF_ERROR(storage::WithGrowth(hub->store().env(), [&] {
    return replica::PutJson(writer, collection, id, json, &changed);
  }));
  std::cout << (changed ? "stored " : "unchanged ") << protocol::RecordName(collection, id) << "\n";
  return {};
}

Status CommandDelete(const std::string& dir, const std::string& collection, const std::string& id,
                     bool cascade) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  OSRC_RETURN_IF_ERROR(CheckSiteEnrolled(*hub, collection, id));
  OSRC_RETURN_IF_ERROR(
      AppendAudit(dir, CommandLineActor(), "delete", protocol::RecordName(collection, id)));
  replica::Writer writer = hub->writer();
  replica::DeleteResult result;
  OSRC_RETURN_IF_ERROR(storage::WithGrowth(hub->store().env(), [&] {
    result = {};
    return replica::DeleteRecord(writer, collection, id, cascade, &result);
  }));
  std::cout << replica::DeleteSummary(collection, id, result) << "\n";
  return {};
}

Status CommandErase(const std::string& dir, const std::string& collection, const std::string& id,
                    const std::string& reason) {
  if (reason.empty()) return {ErrorCode::kBadInput, "give the reason of the erasure", "--reason"};
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  OSRC_RETURN_IF_ERROR(CheckSiteEnrolled(*hub, collection, id));
  std::string actor = CommandLineActor();
  OSRC_RETURN_IF_ERROR(
      AppendAudit(dir, actor, "erase", protocol::RecordName(collection, id), reason));
  replica::Writer writer = hub->writer();
  replica::EraseResult result;
  OSRC_RETURN_IF_ERROR(replica::EraseRecord(writer, collection, id, &result));
  OSRC_RETURN_IF_ERROR(AppendErasures(dir, result.erased, actor, reason));
  std::cout << replica::EraseSummary(result) << "\n";
  std::string compacted = replica::CompactAfterErasure(dir, hub->store());
  if (!compacted.empty()) std::cout << compacted << "\n";
  return {};
}

Status CommandGet(const std::string& dir, const std::string& collection, const std::string& id) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  return replica::PrintRecord(hub->store(), collection, id);
}

Status CommandExport(const std::string& dir, const std::string& site, const std::string& collection,
                     bool include_personal, const std::string& format) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  if (!collection.empty() && hub->schema().Find(collection) == nullptr) {
    return {ErrorCode::kBadInput, "unknown collection \"" + collection + "\"", "--collection"};
  }
  OSRC_RETURN_IF_ERROR(
      AppendAudit(dir, CommandLineActor(), "export",
                  (site.empty() ? std::string("all sites") : "site " + site) +
                      (collection.empty() ? std::string(", all collections") : ", " + collection) +
                      (include_personal ? ", with personal fields" : "")));
  return replica::ExportRecords(hub->store(), hub->schema(), collection,
                                site.empty() ? "" : site + "-", format, include_personal);
}

Status CommandStatus(const std::string& dir, bool as_json) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  HubStatus status = ReadStatus(*hub);
  std::cout << (as_json ? StatusJson(status) : StatusText(status));
  return {};
}

Status CommandMetrics(const std::string& dir) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  std::cout << RenderMetrics(ReadStatus(*hub), nullptr);
  return {};
}

}  // namespace osrc::hub

#include "hub/backup.h"
#include "hub/bundle_import.h"
#include "hub/console_server.h"
#include "hub/daemon.h"
#include "replica/erase.h"
#include "replica/run_lock.h"

namespace osrc::hub {

Status CommandRun(const std::string& dir, const std::string& console) {
  if (!console.empty() && !config::IsConsoleBind(console)) {
    return {ErrorCode::kBadInput, "must be HOST:PORT (e.g. 127.0.0.1:7480) or off", "--console"};
  }
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  replica::RunLock lock;
  OSRC_RETURN_IF_ERROR(lock.Acquire(dir));
  // Values an erasure left in freed pages go before serving, while running (the daemon pauses
  // when it is alone with the store) and after.
  std::string bound;
  std::string console_bind = console.empty() ? hub->config().console_bind : console;
  while (true) {
    std::string compacted = replica::CompactAfterErasure(dir, hub->store());
    if (!compacted.empty()) {
      std::cerr << "osrc-hub: " << compacted << "\n";
      hub.reset();
      OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
    }
    if (!bound.empty()) hub->BindInstead(bound);  // "tcp://HOST:*" took a port: keep it
    bool compaction_due = false;
    Status status = RunDaemon(*hub, console_bind, &compaction_due);
    if (!compaction_due || !status.ok()) {
      compacted = replica::CompactAfterErasure(dir, hub->store());
      if (!compacted.empty()) std::cerr << "osrc-hub: " << compacted << "\n";
      return status;
    }
    std::ifstream endpoint_file(dir + "/" + std::string(kEndpointFile));
    std::getline(endpoint_file, bound);
    if (console_bind.ends_with(":0")) {  // port 0 took a port: keep it too
      std::ifstream console_file(dir + "/" + std::string(kConsoleAddressFile));
      std::getline(console_file, console_bind);
    }
  }
}

Status CommandBackup(const std::string& dir, const std::string& to) {
  OSRC_RETURN_IF_ERROR(Backup(dir, to));
  OSRC_RETURN_IF_ERROR(AppendAudit(dir, CommandLineActor(), "backup", "to " + to));
  std::cout << "backed up hub to " << to << "\n";
  return {};
}

Status CommandRestore(const std::string& dir, const std::string& from) {
  std::string epoch;
  size_t erased_again = 0;
  OSRC_RETURN_IF_ERROR(Restore(dir, from, &epoch, &erased_again));
  OSRC_RETURN_IF_ERROR(AppendAudit(dir, CommandLineActor(), "restore", "from " + from));
  if (erased_again > 0) {
    std::cout << "erased again " << erased_again
              << " records the erasure register lists and the backup still held\n";
  }
  std::cout << "restored hub from " << from << "; new epoch " << epoch
            << ": sites re-offer what the backup lacks at their next sync\n";
  return {};
}

}  // namespace osrc::hub

namespace osrc::hub {

Status CommandBundleImport(const std::string& dir, const std::string& file,
                           const std::string& reply) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  BundleImportResult result;
  std::unique_ptr<Progress> progress = StderrProgress("bundle import", "changes");
  OSRC_RETURN_IF_ERROR(ImportBundle(*hub, file, reply, &result, progress.get()));
  progress->Finish();
  std::string compacted = replica::CompactAfterErasure(dir, hub->store());
  if (!compacted.empty()) std::cerr << "osrc-hub: " << compacted << "\n";
  std::cout << "bundle from " << result.site << ": " << result.applied
            << " changes applied, acknowledged " << result.acked << "; reply with "
            << result.delivered << " deliveries written to " << reply << "\n";
  if (result.refused_erased > 0) {
    std::cout << result.refused_erased << " writes to records erased here merged nothing: they "
              << "stay erased, and the site applies the erasure from this reply\n";
  }
  if (result.taken_back > 0) {
    std::cout << "took back " << result.taken_back << " hub changes the site held from before "
              << "the restore\n";
  }
  return {};
}

}  // namespace osrc::hub
