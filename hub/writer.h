// The hub's writer thread: applies queued pushes, many per LMDB write transaction (group commit),
// and posts each reply (Ack only after the commit holding its changes returned) to the I/O thread
// over an inproc PAIR socket as [routing id, reply frame]. A group whose commit fails is retried
// one job per transaction, so a corrupt stored entry refuses only the job that meets it (logged
// with its site and entry). Submit() and failed() are thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>
#include <zmq.hpp>

#include "hub/hub.h"
#include "hub/site_session.h"
#include "hub/sites.h"
#include "protocol/change.h"
#include "protocol/messages.h"
#include "replica/erase.h"

namespace osrc::hub {

class LiveMetrics;

// A push whose changes passed the content checks; the writer checks sequence against acked.
struct PushJob {
  std::string routing_id;
  std::string site;
  uint64_t first = 0;
  std::vector<protocol::Change> changes;
};

// Progress of a site seen by the I/O thread, persisted by the writer.
struct SiteUpdate {
  std::string site;
  uint64_t last_contact_ms = 0;
  std::optional<int64_t> clock_skew_ms;  // Measured at a hello; kept as it was if absent.
  uint64_t cursor = 0;
  std::optional<SiteReport> report;  // from a Hello; kept as it was if absent
};

// Hub changes a site handed back, seals checked; answered by ReofferAck{token}.
struct ReofferJob {
  std::string routing_id;
  std::string site;
  uint64_t token = 0;
  std::vector<protocol::Change> changes;
};

using WriterJob = std::variant<PushJob, SiteUpdate, ReofferJob>;

// The session options of this hub (hub/site_session.h), for the daemon or (`bundle`) an import.
SiteSessionOptions SessionOptionsOf(Hub& hub, bool bundle);
// Throws kCorruption naming the first hub log entry of `page` that does not decode: a corrupt
// entry is never delivered.
void CheckDeliverPage(const protocol::Deliver& page);
// Folds a site's progress into its entry: contact and cursor only move forward.
void UpdateProgress(SiteEntry& site, uint64_t last_contact_ms, std::optional<int64_t> clock_skew_ms,
                    uint64_t cursor, const std::optional<SiteReport>& report);

class Writer {
 public:
  // `results_endpoint`: the inproc address the I/O thread's PAIR socket is bound to.
  // `metrics`, if set, observes each commit of pushes (osrc_push_commit_seconds).
  Writer(Hub& hub, zmq::context_t& context, std::string results_endpoint, spdlog::logger& log,
         LiveMetrics* metrics = nullptr);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void Start();
  // Finishes queued jobs, then joins the thread.
  void Stop();
  void Submit(WriterJob job);
  // Whether the thread ended on a fault it could not confine to one job.
  bool failed() const { return failed_.load(); }

 private:
  struct Reply {
    std::string routing_id;
    std::string frame;
  };
  void Loop();
  // Commits `jobs`, together or, if that fails, one by one; the replies of all of them.
  std::vector<Reply> Run(std::vector<WriterJob>& jobs);
  // One write transaction for `jobs`; throws on a failed commit (nothing of it is durable).
  // Grows the map and retries when it is full and may grow.
  std::vector<Reply> Commit(std::vector<WriterJob>& jobs);
  std::vector<Reply> CommitOnce(std::vector<WriterJob>& jobs);
  // The Error reply to `job` after `fault`; none for a progress update.
  std::optional<Reply> Refusal(const WriterJob& job, const Error& fault);
  // Names the job and, for a push, the first stored record it meets that cannot be read.
  std::string Describe(const WriterJob& job);
  // Grows the store map while the I/O thread holds no transaction; false if not allowed.
  bool Grow();
  // Applies one push inside `txn`; returns the reply frame.
  // The site's erasure orders applied are added to `*erased`, per site.
  std::string ApplyPush(storage::WriteTxn& txn, PushJob& job,
                        std::map<std::string, SiteEntry>& sites, size_t* applied,
                        std::map<std::string, std::vector<replica::ErasedRecord>>* erased);
  SiteEntry* SiteOf(storage::WriteTxn& txn, const std::string& code,
                    std::map<std::string, SiteEntry>& sites);

  Hub& hub_;
  zmq::context_t& context_;
  std::string results_endpoint_;
  spdlog::logger& log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<WriterJob> queue_;
  bool stopping_ = false;
  bool warned_full_ = false;
  LiveMetrics* metrics_;
  std::atomic<bool> failed_{false};
  std::thread thread_;
};

}  // namespace osrc::hub
