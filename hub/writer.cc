#include "hub/writer.h"

#include "hub/apply.h"
#include "hub/sites.h"
#include "protocol/messages.h"
#include "protocol/socket.h"

namespace osrc::hub {

Writer::Writer(Hub& hub, zmq::context_t& context, std::string results_endpoint,
               spdlog::logger& log)
    : hub_(hub), context_(context), results_endpoint_(std::move(results_endpoint)), log_(log) {}

Writer::~Writer() { Stop(); }

void Writer::Start() { thread_ = std::thread([this] { Loop(); }); }

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
    std::vector<Reply> replies;
    while (true) {
      try {
        replies = Commit(jobs);
        break;
      } catch (const Error& e) {
        if (e.code() == ErrorCode::kMapFull && Grow()) continue;
        // Nothing of this group is durable: refuse its pushes, retryably when the store is full.
        ErrorCode code = e.code() == ErrorCode::kMapFull ? ErrorCode::kMapFull : ErrorCode::kInternal;
        log_.error("commit failed, {} jobs refused: {}", jobs.size(), e.what());
        replies.clear();
        for (WriterJob& job : jobs) {
          if (auto* push = std::get_if<PushJob>(&job)) {
            protocol::ErrorReply reply{code, std::string("hub could not store the push: ") + e.what()};
            replies.push_back({push->routing_id, protocol::EncodeMessage(reply)});
          } else if (auto* reoffer = std::get_if<ReofferJob>(&job)) {
            protocol::ErrorReply reply{code, std::string("hub could not take back: ") + e.what()};
            replies.push_back({reoffer->routing_id, protocol::EncodeMessage(reply)});
          }
        }
        break;
      }
    }
    for (const Reply& reply : replies) {
      protocol::SendFrame(results, reply.routing_id, true);
      protocol::SendFrame(results, reply.frame);
    }
  }
}

std::vector<Writer::Reply> Writer::Commit(std::vector<WriterJob>& jobs) {
  std::vector<Reply> replies;
  storage::WriteTxn txn(hub_.store().env());
  std::map<std::string, SiteEntry> sites;
  size_t applied = 0, pushes = 0;
  for (WriterJob& job : jobs) {
    if (auto* push = std::get_if<PushJob>(&job)) {
      replies.push_back({push->routing_id, ApplyPush(txn, *push, sites, &applied)});
      ++pushes;
    } else if (auto* reoffer = std::get_if<ReofferJob>(&job)) {
      size_t taken = TakeBack(hub_.store(), txn, hub_.schema(), reoffer->changes);
      log_.info("site {}: took back {} of {} hub changes it handed back", reoffer->site, taken,
                reoffer->changes.size());
      replies.push_back({reoffer->routing_id,
                         protocol::EncodeMessage(protocol::ReofferAck{
                             reoffer->token, hub_.store().LogHead(txn)})});
    } else {
      const SiteUpdate& update = std::get<SiteUpdate>(job);
      if (SiteEntry* site = SiteOf(txn, update.site, sites)) {
        site->last_contact_ms = std::max(site->last_contact_ms, update.last_contact_ms);
        if (update.clock_skew_ms) site->clock_skew_ms = *update.clock_skew_ms;
        site->cursor = std::max(site->cursor, update.cursor);
      }
    }
  }
  for (const auto& [code, site] : sites) PutSite(hub_.store(), txn, site);
  txn.Commit();
  if (pushes > 0) {
    SPDLOG_LOGGER_DEBUG(&log_, "commit: {} pushes, {} changes applied", pushes, applied);
  }
  storage::Env& env = hub_.store().env();
  bool high = env.used_bytes() * 10 >= env.map_size() * 8;
  if (high && !warned_full_) log_.warn("store over 80% full: {} MiB of {} MiB", env.used_bytes() >> 20, env.map_size() >> 20);
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
                              std::map<std::string, SiteEntry>& sites, size_t* applied) {
  SiteEntry* site = SiteOf(txn, job.site, sites);
  if (site == nullptr || site->revoked) {
    return protocol::EncodeMessage(
        protocol::ErrorReply{ErrorCode::kNotEnrolled, "site key not enrolled at hub"});
  }
  protocol::Ack ack = hub::ApplyPush(hub_.store(), txn, *site, job.first, job.changes, applied);
  if (ack.gap) {
    SPDLOG_LOGGER_DEBUG(&log_, "site {}: gap, push from {} but acked {}", job.site, job.first,
                        site->acked);
  }
  return protocol::EncodeMessage(ack);
}

}  // namespace osrc::hub
