#include "bench/pre_encoded.h"

#include <stdexcept>
#include <zmq.hpp>

#include "bench/site_store.h"
#include "config/schema_loader.h"
#include "protocol/messages.h"
#include "protocol/run_history.h"
#include "protocol/socket.h"
#include "storage/hlc.h"
#include "storage/merge.h"
#include "storage/store.h"

namespace osrc::bench {
namespace {

void Check(const Status& status, const std::string& what) {
  if (!status.ok()) throw std::runtime_error(what + ": " + status.ToString());
}

uint64_t NowMillis() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

PreEncodedSites::PreEncodedSites(const IngestFixture& fixture, const std::string& dir) {
  protocol::KeyPair hub_keys;
  Check(protocol::ReadKeyPair(dir + "/hub", "hub", &hub_keys), "hub keys");
  hub_public_key_ = hub_keys.public_key;
  for (const SiteData& data : fixture.sites()) {
    Site& site = sites_.emplace_back();
    site.code = data.code;
    std::string site_dir = dir + "/" + data.code;
    Check(protocol::ReadKeyPair(site_dir, "node", &site.keys), data.code + " keys");
    storage::Store store(site_dir, NodeStoreOptions(/*durable=*/false));
    storage::ReadTxn txn(store.env());
    site.head = store.LogHead(txn);
    protocol::RunHistory sent;  // what the connection will have carried before each push
    uint64_t next = 1;
    for (size_t count : data.push_sizes) {
      protocol::Push push;
      push.first = next;
      for (size_t i = 0; i < count; ++i, ++next) {
        auto bytes = store.GetLog(txn, next);
        if (!bytes) throw std::runtime_error(data.code + " log lacks " + std::to_string(next));
        push.changes.emplace_back(*bytes);
      }
      site.pushes.push_back(protocol::EncodeMessage(push, {.history = &sent}));
      site.lasts.push_back(next - 1);
    }
    if (next - 1 != site.head) throw std::runtime_error(data.code + ": pushes miss changes");
  }
}

uint64_t PreEncodedSites::wire_bytes() const {
  uint64_t bytes = 0;
  for (const Site& site : sites_) {
    for (const std::string& push : site.pushes) bytes += push.size();
  }
  return bytes;
}

void PreEncodedSites::Send(const std::string& endpoint, size_t window,
                           std::chrono::seconds timeout) {
  struct Connection {
    zmq::socket_t socket;
    bool welcomed = false;
    uint64_t acked = 0;
    size_t next = 0;          // the next push to send
    size_t acknowledged = 0;  // pushes wholly acknowledged
    protocol::RunHistory received;
  };
  zmq::context_t context;
  protocol::LinkOptions options;
  std::vector<Connection> connections(sites_.size());
  std::vector<zmq::pollitem_t> items;
  for (size_t i = 0; i < sites_.size(); ++i) {
    const Site& site = sites_[i];
    Check(protocol::OpenDealer(context, site.keys, hub_public_key_, options, endpoint,
                               &connections[i].socket),
          site.code + " connect");
    protocol::Hello hello;
    hello.version = protocol::kProtocolVersion;
    hello.site = site.code;
    hello.schema_hash = config::DefaultSchema().hash();
    hello.log_head = site.head;
    hello.clock = storage::StampOf(NowMillis());
    hello.deliver_bytes = 64 * 1024;
    hello.merge_version = storage::kMergeVersion;
    if (!protocol::SendFrame(connections[i].socket, protocol::EncodeMessage(hello))) {
      throw std::runtime_error(site.code + ": cannot send the Hello");
    }
    items.push_back({connections[i].socket.handle(), 0, ZMQ_POLLIN, 0});
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto done = [&] {
    for (size_t i = 0; i < sites_.size(); ++i) {
      if (connections[i].acked < sites_[i].head) return false;
    }
    return true;
  };
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("pushes timed out");
    zmq::poll(items, std::chrono::milliseconds(100));
    for (size_t i = 0; i < sites_.size(); ++i) {
      Connection& c = connections[i];
      const Site& site = sites_[i];
      while (auto frame = protocol::ReceiveFrame(c.socket)) {
        protocol::Message message;
        Check(protocol::DecodeMessage({static_cast<const uint8_t*>(frame->data()), frame->size()},
                                      {}, &message, &c.received),
              site.code + " reply");
        if (auto* error = std::get_if<protocol::ErrorReply>(&message)) {
          throw std::runtime_error(site.code + ": hub refused: " + error->message);
        } else if (auto* welcome = std::get_if<protocol::Welcome>(&message)) {
          c.welcomed = true;
          c.acked = welcome->acked;
        } else if (auto* ack = std::get_if<protocol::Ack>(&message)) {
          if (ack->gap) throw std::runtime_error(site.code + ": the hub saw a gap");
          c.acked = std::max(c.acked, ack->acked);
        }
      }
      while (c.acknowledged < site.lasts.size() && site.lasts[c.acknowledged] <= c.acked) {
        ++c.acknowledged;
      }
      while (c.welcomed && c.next < site.pushes.size() && c.next - c.acknowledged < window) {
        if (!protocol::SendFrame(c.socket, site.pushes[c.next])) break;
        ++c.next;
      }
    }
  }
}

}  // namespace osrc::bench
