#include "tools/loadgen/load_run.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>
#include <zmq.hpp>

#include "config/defaults.h"
#include "config/schema_loader.h"
#include "node/hub_connection.h"
#include "protocol/socket.h"

namespace osrc::loadgen {
namespace {

// Deadlines and keep-alives. Coarser than the node's driver (50 ms): each tick of each site costs
// a few system calls inside libzmq, and a write that falls due is ticked at its time regardless.
constexpr uint64_t kTickMs = 200;
constexpr int kPollMs = 10;
// Ticks due sooner than this wait for it: the sites' ticks are spread over kTickMs, and waking
// for each would spin the loop. Messages still wake it at once.
constexpr uint64_t kMinWaitMs = 5;

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

struct Sim {
  Sim(const SiteKeys& keys, const RunOptions& options, const protocol::LinkOptions& link,
      uint64_t schema_hash, uint64_t offset_ms, uint64_t seed)
      : store(keys, options.changes_per_site, options.rate, offset_ms),
        session(link, {keys.site, schema_hash, options.hub_endpoint}, store, true, seed) {}
  SimSite store;
  node::LinkSession session;
  std::unique_ptr<node::HubConnection> connection;
  uint64_t next_tick_ms = 0;  // before it has started: when it starts
  bool started = false;
};

class Driver {
 public:
  Driver(const std::vector<SiteKeys>& sites, const RunOptions& options, uint64_t schema_hash)
      : options_(options) {
    context_.set(zmq::ctxopt::io_threads, options.io_threads);
    // Each site holds a DEALER and its monitor's two inproc sockets.
    context_.set(zmq::ctxopt::max_sockets, static_cast<int>(sites.size() * 3 + 64));
    limits_.max_frame_bytes = link_.max_message_bytes;
    start_ms_ = NowMs();
    // Spread the sites' writes over one interval so they do not all come at once.
    double interval_ms = 1000.0 / options.rate;
    for (size_t i = 0; i < sites.size(); ++i) {
      double share = static_cast<double>(i) / static_cast<double>(sites.size());
      auto offset = static_cast<uint64_t>(interval_ms * share);
      sims_.push_back(std::make_unique<Sim>(sites[i], options, link_, schema_hash, offset, i + 1));
      sims_.back()->next_tick_ms =
          start_ms_ + static_cast<uint64_t>(options.connect_over_seconds * 1000 * share);
      if (options.until_cursor > 0) sims_.back()->store.WatchCursor(options.until_cursor);
    }
  }

  // Each of options.threads poll loops drives its own share of the sites, so one wake-up costs
  // the sockets of that share, not of every site.
  Status Run(RunResult* result) {
    size_t threads = std::clamp<size_t>(static_cast<size_t>(options_.threads), 1, sims_.size());
    std::vector<std::thread> workers;
    for (size_t t = 0; t < threads; ++t) {
      workers.emplace_back([this, t, threads] {
        try {
          Drive(sims_.size() * t / threads, sims_.size() * (t + 1) / threads);
        } catch (const std::exception& e) {
          std::lock_guard lock(failure_mutex_);
          if (failure_.ok()) failure_ = {ErrorCode::kIo, e.what(), options_.hub_endpoint};
        }
      });
    }
    for (std::thread& worker : workers) worker.join();
    OSRC_RETURN_IF_ERROR(failure_);
    result->timed_out = timed_out_.load();
    Summarise(result);
    return {};
  }

 private:
  // A poll loop's sites, and the epoll set of their sockets' ZMQ_FDs: a wake-up costs only the
  // sockets that have something, where zmq_poll would look at every one.
  struct Loop {
    Loop(size_t begin, size_t end)
        : begin(begin), end(end), epoll_fd(epoll_create1(EPOLL_CLOEXEC)) {
      if (epoll_fd < 0) throw std::system_error(errno, std::generic_category(), "epoll");
    }
    ~Loop() { close(epoll_fd); }
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;
    size_t begin, end;
    int epoll_fd;
    std::vector<size_t> sent;  // sites whose sockets sent: HasInput, before the next wait
  };

  void Drive(size_t begin, size_t end) {
    Loop loop(begin, end);
    uint64_t deadline = start_ms_ + static_cast<uint64_t>(options_.timeout_seconds * 1000);
    while (!Done(loop)) {
      if (NowMs() >= deadline) {
        timed_out_ = true;
        break;
      }
      PollOnce(loop);
    }
    for (size_t i = begin; i < end; ++i) {
      if (sims_[i]->started) {
        Step(loop, i, [&](uint64_t now) { return sims_[i]->session.Stop(now); });
      }
    }
  }

  bool Done(const Loop& loop) const {
    for (size_t i = loop.begin; i < loop.end; ++i) {
      const SimSite& store = sims_[i]->store;
      if (store.acked() < options_.changes_per_site) return false;
      if (options_.until_cursor > 0 && !store.cursor_reached_ms()) return false;
    }
    return true;
  }

  // Runs one call of site `i`'s session at the current time and carries out its effects.
  template <typename Call>
  void Step(Loop& loop, size_t i, Call call) {
    Sim& sim = *sims_[i];
    uint64_t now = NowMs();
    sim.store.SetNow(now);
    node::LinkEffects effects;
    try {
      effects = call(now);
    } catch (const std::exception& e) {
      effects = sim.session.OnFailure({ErrorCode::kInternal, e.what()}, now);
    }
    Apply(loop, i, std::move(effects));
  }

  void Apply(Loop& loop, size_t i, node::LinkEffects effects) {
    Sim& sim = *sims_[i];
    if (effects.close && sim.connection && !effects.farewell.empty()) {
      sim.connection->SayFarewell(effects.farewell);
    }
    if (effects.close) Disconnect(loop, sim);
    if (effects.open) {
      try {
        sim.connection = std::make_unique<node::HubConnection>(
            context_, sim.store.keys().keys, options_.hub_key, link_,
            "inproc://osrc.loadgen.monitor." + std::to_string(i), options_.hub_endpoint);
        // The socket's messages and its monitor's events (connected, secured, lost) wake the loop.
        for (int fd : Fds(*sim.connection)) {
          epoll_event event{};
          event.events = EPOLLIN;
          event.data.u64 = i;
          if (epoll_ctl(loop.epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
            throw std::system_error(errno, std::generic_category(), "epoll_ctl");
          }
        }
      } catch (const zmq::error_t& e) {
        Disconnect(loop, sim);
        uint64_t now = NowMs();
        return Apply(
            loop, i,
            sim.session.OnFailure({ErrorCode::kBadInput, std::string("cannot connect: ") + e.what(),
                                   options_.hub_endpoint},
                                  now));
      }
    }
    for (const std::string& frame : effects.frames) {
      if (sim.connection) protocol::SendFrame(sim.connection->socket(), frame);
    }
    if (sim.connection && !effects.frames.empty()) loop.sent.push_back(i);
  }

  static std::array<int, 2> Fds(node::HubConnection& connection) {
    return {connection.socket().get(zmq::sockopt::fd),
            connection.monitor().events().get(zmq::sockopt::fd)};
  }

  void Disconnect(Loop& loop, Sim& sim) {
    if (!sim.connection) return;
    for (int fd : Fds(*sim.connection)) epoll_ctl(loop.epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    sim.connection.reset();
  }

  // Whether site `i`'s socket holds a message: sending can take in the socket's commands and
  // with them the ZMQ_FD wake-up that said so.
  bool HasInput(size_t i) {
    Sim& sim = *sims_[i];
    return sim.connection && (sim.connection->socket().get(zmq::sockopt::events) & ZMQ_POLLIN);
  }

  void Receive(Loop& loop, size_t i) {
    Sim& sim = *sims_[i];
    while (sim.connection) {
      std::optional<node::HubConnection::Received> in = sim.connection->Receive(limits_);
      if (!in) break;
      Step(loop, i, [&](uint64_t now) {
        return in->status.ok() ? sim.session.OnMessage(in->message, in->bytes, now)
                               : sim.session.OnFailure(in->status, now);
      });
    }
  }

  void WatchMonitor(Loop& loop, size_t i) {
    Sim& sim = *sims_[i];
    while (sim.connection) {
      switch (sim.connection->TakeNews()) {
        case node::HubConnection::News::kNone:
          return;
        case node::HubConnection::News::kFailed: {
          Status failure = sim.connection->monitor().failure();
          return Step(loop, i, [&](uint64_t now) { return sim.session.OnFailure(failure, now); });
        }
        case node::HubConnection::News::kConnected:
          Step(loop, i, [&](uint64_t now) { return sim.session.OnConnected(now); });
          break;
        case node::HubConnection::News::kSecured:
          return Step(loop, i, [&](uint64_t now) { return sim.session.OnSecured(now); });
      }
    }
  }

  void PollOnce(Loop& loop) {
    uint64_t now = NowMs();
    uint64_t wake = now + kPollMs;
    for (size_t i = loop.begin; i < loop.end; ++i) {
      wake = std::min(wake, std::max(sims_[i]->next_tick_ms, now));
    }
    wake = std::max(wake, now + kMinWaitMs);
    epoll_event ready[256];
    int count = epoll_wait(loop.epoll_fd, ready, std::size(ready), static_cast<int>(wake - now));
    if (count < 0 && errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    }
    for (int k = 0; k < count; ++k) {
      auto i = static_cast<size_t>(ready[k].data.u64);
      Receive(loop, i);
      WatchMonitor(loop, i);
    }
    now = NowMs();
    for (size_t i = loop.begin; i < loop.end; ++i) {
      Sim& sim = *sims_[i];
      if (!sim.started) {
        if (now < sim.next_tick_ms) continue;
        sim.started = true;
        Step(loop, i, [&](uint64_t at) { return sim.session.Start(at); });
      }
      if (now < sim.next_tick_ms) continue;
      WatchMonitor(loop, i);
      if (!sim.store.writing() && sim.session.reached_in_step()) {
        sim.store.StartWriting(now);
        uint64_t last = connected_last_ms_.load();
        while (last < now && !connected_last_ms_.compare_exchange_weak(last, now)) {
        }
      }
      uint64_t head = sim.store.LogHead();
      uint64_t next_due = sim.store.WriteDue(now);
      if (sim.store.LogHead() > head) sim.session.NoteLogGrew();
      Step(loop, i, [&](uint64_t at) { return sim.session.OnTick(at); });
      sim.next_tick_ms = std::min(now + kTickMs, next_due);
    }
    while (!loop.sent.empty()) {
      std::vector<size_t> sent;
      sent.swap(loop.sent);
      for (size_t i : sent) {
        if (HasInput(i)) Receive(loop, i);
      }
    }
  }

  void Summarise(RunResult* result) const {
    std::vector<uint32_t> latencies, after_connect;
    result->sites = sims_.size();
    for (const auto& sim : sims_) {
      const SimSite& store = sim->store;
      if (sim->session.reached_in_step()) ++result->sites_connected;
      result->changes_acked += store.acked();
      result->changes_expected += store.changes();
      result->delivered += store.delivered();
      latencies.insert(latencies.end(), store.ack_latencies().begin(), store.ack_latencies().end());
      for (size_t i = 0; i < store.ack_latencies().size(); ++i) {
        bool connected = connected_last_ms_ > 0 && store.written_ms()[i] >= connected_last_ms_;
        if (connected) after_connect.push_back(store.ack_latencies()[i]);
      }
      if (store.cursor_reached_ms()) {
        ++result->sites_at_cursor;
        result->cursor_last_unix_ms =
            std::max(result->cursor_last_unix_ms, *store.cursor_reached_ms());
      }
      if (!store.last_failure().empty()) {
        result->failures.push_back(store.keys().site + ": " + store.last_failure());
      }
    }
    auto quantile = [](std::vector<uint32_t>& sorted, double q) {
      if (sorted.empty()) return 0.0;
      return static_cast<double>(sorted[static_cast<size_t>(q * (sorted.size() - 1))]);
    };
    std::sort(latencies.begin(), latencies.end());
    std::sort(after_connect.begin(), after_connect.end());
    result->ack_p50_ms = quantile(latencies, 0.5);
    result->ack_p99_ms = quantile(latencies, 0.99);
    result->ack_max_ms = quantile(latencies, 1.0);
    result->ack_p99_after_connect_ms = quantile(after_connect, 0.99);
    result->seconds = static_cast<double>(NowMs() - start_ms_) / 1000.0;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds_of = [](const timeval& t) {
      return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
    };
    result->cpu_seconds = seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
    if (connected_last_ms_ > 0) {
      result->connect_seconds = static_cast<double>(connected_last_ms_ - start_ms_) / 1000.0;
    }
  }

  RunOptions options_;
  protocol::LinkOptions link_;
  protocol::MessageLimits limits_;
  zmq::context_t context_;
  uint64_t start_ms_ = 0;
  std::atomic<uint64_t> connected_last_ms_ = 0;  // when the last site to connect reached in step
  std::atomic<bool> timed_out_ = false;
  std::mutex failure_mutex_;
  Status failure_;  // the first poll loop's fault
  std::vector<std::unique_ptr<Sim>> sims_;
};

}  // namespace

Status ReadKeys(const std::string& path, std::vector<SiteKeys>* out) {
  std::ifstream in(path);
  if (!in) return {ErrorCode::kIo, "cannot read the keys file", path};
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    size_t first = line.find(','), second = line.find(',', first + 1);
    SiteKeys keys;
    if (first != std::string::npos && second != std::string::npos) {
      keys.site = line.substr(0, first);
      keys.keys.public_key = line.substr(first + 1, second - first - 1);
      keys.keys.secret_key = line.substr(second + 1);
    }
    if (!protocol::IsZ85Key(keys.keys.public_key) || !protocol::IsZ85Key(keys.keys.secret_key)) {
      return {ErrorCode::kBadInput, "expected site,public_key,secret_key with Z85 keys",
              path + ":" + std::to_string(number)};
    }
    out->push_back(std::move(keys));
  }
  if (out->empty()) return {ErrorCode::kBadInput, "no sites in the keys file", path};
  return {};
}

Status Run(const std::vector<SiteKeys>& sites, const RunOptions& options, RunResult* result) {
  if (!protocol::IsZ85Key(options.hub_key)) {
    return {ErrorCode::kBadInput, "hub key is not a 40-character Z85 CURVE key", "--hub-key"};
  }
  if (options.rate <= 0) return {ErrorCode::kBadInput, "rate must be above 0", "--rate"};
  config::Schema schema;
  OSRC_RETURN_IF_ERROR(
      config::LoadSchema(config::DefaultFile("schema.toml"), "shipped schema.toml", &schema));
  try {
    return Driver(sites, options, schema.hash()).Run(result);
  } catch (const zmq::error_t& e) {
    return {ErrorCode::kIo, std::string("ZeroMQ: ") + e.what(), options.hub_endpoint};
  }
}

std::string ResultJson(const RunResult& result) {
  nlohmann::ordered_json json = {
      {"sites", result.sites},
      {"sites_connected", result.sites_connected},
      {"connect_seconds", result.connect_seconds},
      {"changes_acked", result.changes_acked},
      {"changes_expected", result.changes_expected},
      {"ack_p50_ms", result.ack_p50_ms},
      {"ack_p99_ms", result.ack_p99_ms},
      {"ack_max_ms", result.ack_max_ms},
      {"ack_p99_after_connect_ms", result.ack_p99_after_connect_ms},
      {"delivered", result.delivered},
      {"sites_at_cursor", result.sites_at_cursor},
      {"cursor_last_unix_ms", result.cursor_last_unix_ms},
      {"timed_out", result.timed_out},
      {"seconds", result.seconds},
      {"cpu_seconds", result.cpu_seconds},
  };
  return json.dump();
}

}  // namespace osrc::loadgen
