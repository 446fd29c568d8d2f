#include "hub/writer.h"

#include <chrono>

#include "hub/apply.h"
#include "hub/erasures.h"
#include "hub/metrics.h"
#include "hub/received.h"
#include "hub/sites.h"
#include "protocol/kj_log.h"
#include "protocol/messages.h"
#include "protocol/socket.h"
#include "storage/merge.h"

namespace osrc::hub {

SiteSessionOptions SessionOptionsOf(Hub& hub, bool bundle) {
  return {.epoch = hub.epoch(),
          .schema_hash = hub.schema().hash(),
          .merge_version = storage::kMergeVersion,
          .max_skew_ms = hub.config().max_skew_ms,
          .heartbeat_timeout_ms = static_cast<uint64_t>(hub.config().link.heartbeat_timeout_ms),
          .deliver_page = hub.config().link.deliver_page,
          .bundle = bundle};
}

void CheckDeliverPage(const protocol::Deliver& page) {
  for (size_t i = 0; i < page.changes.size(); ++i) {
    protocol::Change change;
    Status status = protocol::DecodeChange(page.changes[i], protocol::DecodeLimits{}, &change);
    if (!status.ok()) {
      uint64_t seq = i < page.seqs.size() ? page.seqs[i] : 0;
      throw Error(ErrorCode::kCorruption,
                  "hub log entry " + std::to_string(seq) + " unreadable: " + status.ToString());
    }
  }
}

void UpdateProgress(SiteEntry& site, uint64_t last_contact_ms, std::optional<int64_t> clock_skew_ms,
                    uint64_t cursor, const std::optional<SiteReport>& report) {
  site.last_contact_ms = std::max(site.last_contact_ms, last_contact_ms);
  if (clock_skew_ms) site.clock_skew_ms = *clock_skew_ms;
  if (report && report->at_ms >= site.report.at_ms) site.report = *report;
  site.cursor = std::max(site.cursor, cursor);
}

Writer::Writer(Hub& hub, zmq::context_t& context, std::string results_endpoint, spdlog::logger& log,
               LiveMetrics* metrics)
    : hub_(hub),
      context_(context),
      results_endpoint_(std::move(results_endpoint)),
      log_(log),
      metrics_(metrics) {}

Writer::~Writer() { Stop(); }

void Writer::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Writer::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Writer::Submit(WriterJob job) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void Writer::Loop() {
  protocol::KjLogRoute kj_log([&](std::string_view line) { log_.warn("capnp: {}", line); });
  try {
    zmq::socket_t results(context_, zmq::socket_type::pair);
    results.set(zmq::sockopt::linger, 0);
    results.connect(results_endpoint_);
    const size_t max_jobs = static_cast<size_t>(hub_.config().group_commit_max);
    while (true) {
      std::vector<WriterJob> jobs;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        while (!queue_.empty() && jobs.size() < max_jobs) {
          jobs.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      for (const Reply& reply : Run(jobs)) {
        protocol::SendFrame(results, reply.routing_id, true);
        protocol::SendFrame(results, reply.frame);
      }
    }
  } catch (const std::exception& e) {
    log_.error("writer thread stopped: {}", e.what());
    failed_.store(true);
  }
}

std::vector<Writer::Reply> Writer::Run(std::vector<WriterJob>& jobs) {
  try {
    return Commit(jobs);
  } catch (const Error& e) {
    // Nothing of this group is durable. Committed one by one, a fault is confined to the jobs
    // that meet it, and a store that is full takes what still fits.
    if (jobs.size() == 1) {
      log_.error("commit failed, {} jobs refused: {}", jobs.size(), e.what());
      std::vector<Reply> replies;
      for (const WriterJob& job : jobs) {
        if (jobs.size() == 1) log_.error("{} refused: {}", Describe(job), e.what());
        if (auto reply = Refusal(job, e)) replies.push_back(std::move(*reply));
      }
      return replies;
    }
    log_.warn("commit of {} jobs failed ({}): committing them one by one", jobs.size(), e.what());
  }
  std::vector<Reply> replies;
  for (WriterJob& job : jobs) {
    std::vector<WriterJob> one;
    one.push_back(std::move(job));
    try {
      for (Reply& reply : Commit(one)) replies.push_back(std::move(reply));
    } catch (const Error& e) {
      log_.error("{} refused: {}", Describe(one.front()), e.what());
      if (auto reply = Refusal(one.front(), e)) replies.push_back(std::move(*reply));
    }
  }
  return replies;
}

std::optional<Writer::Reply> Writer::Refusal(const WriterJob& job, const Error& fault) {
  ErrorCode code = fault.code() == ErrorCode::kMapFull ? ErrorCode::kMapFull : ErrorCode::kInternal;
  if (const auto* push = std::get_if<PushJob>(&job)) {
    protocol::ErrorReply reply{code, std::string("hub could not store the push: ") + fault.what()};
    return Reply{push->routing_id, protocol::EncodeMessage(reply)};
  }
  if (const auto* reoffer = std::get_if<ReofferJob>(&job)) {
    protocol::ErrorReply reply{code, std::string("hub could not take back: ") + fault.what()};
    return Reply{reoffer->routing_id, protocol::EncodeMessage(reply)};
  }
  return std::nullopt;
}

std::string Writer::Describe(const WriterJob& job) {
  const std::vector<protocol::Change>* changes = nullptr;
  std::string what;
  if (const auto* push = std::get_if<PushJob>(&job)) {
    changes = &push->changes;
    what = "site " + push->site + ": push " + std::to_string(push->first) + ".." +
           std::to_string(push->first + push->changes.size() - 1);
  } else if (const auto* reoffer = std::get_if<ReofferJob>(&job)) {
    changes = &reoffer->changes;
    what = "site " + reoffer->site + ": hand-back of " + std::to_string(reoffer->changes.size()) +
           " hub changes";
  } else {
    what = "site " + std::get<SiteUpdate>(job).site + ": progress update";
  }
  if (changes == nullptr) return what;
  try {
    storage::ReadTxn txn(hub_.store().env());
    for (const protocol::Change& change : *changes) {
      try {
        (void)hub_.store().GetRecord(txn, change.collection, change.id);
      } catch (const Error&) {
        return what + " (stored record " + protocol::RecordName(change.collection, change.id) +
               " unreadable)";
      }
    }
  } catch (const Error&) {
  }
  return what;
}

std::vector<Writer::Reply> Writer::Commit(std::vector<WriterJob>& jobs) {
  while (true) {
    try {
      return CommitOnce(jobs);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kMapFull || !Grow()) throw;
    }
  }
}

std::vector<Writer::Reply> Writer::CommitOnce(std::vector<WriterJob>& jobs) {
  std::vector<Reply> replies;
  const auto started = std::chrono::steady_clock::now();
  // Shared, as every transaction of the daemon: the console's writes hold the guard exclusively,
  // so a map growth of theirs never meets this transaction.
  std::shared_lock guard(hub_.store_guard());
  storage::WriteTxn txn(hub_.store().env());
  std::map<std::string, SiteEntry> sites;
  size_t applied = 0, pushes = 0;
  std::map<std::string, std::vector<replica::ErasedRecord>> erased;
  for (WriterJob& job : jobs) {
    if (auto* push = std::get_if<PushJob>(&job)) {
      replies.push_back({push->routing_id, ApplyPush(txn, *push, sites, &applied, &erased)});
      ++pushes;
    } else if (auto* reoffer = std::get_if<ReofferJob>(&job)) {
      size_t taken = TakeBack(hub_.store(), txn, hub_.schema(), reoffer->changes);
      log_.info("site {}: took back {} of {} hub changes it handed back", reoffer->site, taken,
                reoffer->changes.size());
      replies.push_back({reoffer->routing_id, protocol::EncodeMessage(protocol::ReofferAck{
                                                  reoffer->token, hub_.store().LogHead(txn)})});
    } else {
      const SiteUpdate& update = std::get<SiteUpdate>(job);
      if (SiteEntry* site = SiteOf(txn, update.site, sites)) {
        UpdateProgress(*site, update.last_contact_ms, update.clock_skew_ms, update.cursor,
                       update.report);
      }
    }
  }
  for (const auto& [code, site] : sites) PutSite(hub_.store(), txn, site);
  txn.Commit();
  for (const auto& [code, records] : erased) {
    if (records.empty()) continue;
    log_.info("site {}: erased {} records at its order", code, records.size());
    Status status = AppendErasures(hub_.dir(), records, "site " + code, "erased at the site");
    if (!status.ok()) log_.error("site {}: erasure register: {}", code, status.ToString());
  }
  if (pushes > 0 && metrics_ != nullptr) {
    metrics_->ObserveCommit(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  if (pushes > 0) {
    SPDLOG_LOGGER_DEBUG(&log_, "commit: {} pushes, {} changes applied", pushes, applied);
  }
  storage::Env& env = hub_.store().env();
  bool high = env.used_bytes() * 10 >= env.map_size() * 8;
  if (high && !warned_full_)
    log_.warn("store over 80% full: {} MiB of {} MiB", env.used_bytes() >> 20,
              env.map_size() >> 20);
  warned_full_ = high;
  return replies;
}

bool Writer::Grow() {
  std::unique_lock guard(hub_.store_guard());
  size_t before = hub_.store().env().map_size();
  if (!hub_.store().env().Grow()) return false;
  log_.warn("store full: map grown from {} MiB to {} MiB", before >> 20,
            hub_.store().env().map_size() >> 20);
  return true;
}

SiteEntry* Writer::SiteOf(storage::WriteTxn& txn, const std::string& code,
                          std::map<std::string, SiteEntry>& sites) {
  auto it = sites.find(code);
  if (it != sites.end()) return &it->second;
  auto entry = GetSite(hub_.store(), txn, code);
  if (!entry) return nullptr;
  return &sites.emplace(code, std::move(*entry)).first->second;
}

std::string Writer::ApplyPush(storage::WriteTxn& txn, PushJob& job,
                              std::map<std::string, SiteEntry>& sites, size_t* applied,
                              std::map<std::string, std::vector<replica::ErasedRecord>>* erased) {
  SiteEntry* site = SiteOf(txn, job.site, sites);
  if (site == nullptr || site->revoked) {
    return protocol::EncodeMessage(
        protocol::ErrorReply{ErrorCode::kNotEnrolled, "site key not enrolled at hub"});
  }
  protocol::Ack ack;
  size_t refused_erased = 0;
  size_t applied_before = *applied;
  Status status = hub::ApplyPush(hub_.store(), txn, hub_.schema(), *site, job.first, job.changes,
                                 applied, &ack, &(*erased)[job.site], &refused_erased);
  if (status.ok()) {
    CountReceived(hub_.store(), txn, job.site, hub_.clock().NowMillis(), *applied - applied_before);
  }
  if (refused_erased > 0) {
    log_.warn("site {}: {} writes to records erased at the hub merged nothing: they stay erased",
              job.site, refused_erased);
  }
  if (!status.ok()) {
    // As a push failing the content checks (Server::Refuse): nothing of it applied, the site told.
    log_.warn("site {}: refused: {}", job.site, status.ToString());
    return protocol::EncodeMessage(
        protocol::ErrorReply{status.code(), status.ToString(), hub_.clock().NowMillis()});
  }
  if (ack.gap) {
    SPDLOG_LOGGER_DEBUG(&log_, "site {}: gap, push from {} but acked {}", job.site, job.first,
                        site->acked);
  }
  return protocol::EncodeMessage(ack);
}

}  // namespace osrc::hub
