// Writes the seed corpus of the hub_inbound fuzz target: `hub_inbound_seeds DIR` (make
// fuzz-seeds writes fuzz/corpus/hub_inbound). Files named valid_* are frames hub::DecodeInbound
// accepts; bad_* are edge cases it must refuse; edge_* may go either way. Deterministic: the same
// files on every run.
#include <zstd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "fuzz/hub_inbound_target.h"
#include "protocol/change.h"
#include "protocol/compact_run.h"
#include "protocol/link_options.h"
#include "protocol/messages.h"
#include "storage/hlc.h"
#include "tests/support/forged_push.h"

namespace osrc::fuzz {
namespace {

using protocol::Change;
using protocol::Field;
using testing::PushParts;
using testing::RawPush;

constexpr uint64_t kStamp = storage::StampOf(kHubInboundNowMs - 60'000, 3);

Change Participant(std::string id, uint64_t seq) {
  Change change{"participants", std::move(id), kHubInboundSite, seq, kStamp + seq, 0, false, {}};
  change.fields = {{"birth_date", std::string("1990-02-28"), 0},
                   {"consent", true, 0},
                   {"family_name", std::string("Dela Cruz"), 0},
                   {"given_name", std::string("Ana"), 0},
                   {"registered_at", std::string("2024-12-31T08:00:00.250Z"), 0},
                   {"sex", std::string("F"), 0},
                   {"site", std::string("MAS"), 0}};
  return change;
}

Change Service(uint64_t seq) {
  Change change{"services", "MAS-S0000001", kHubInboundSite, seq, kStamp + seq, kStamp, false, {}};
  change.fields = {{"date", std::string("2024-12-30"), 0},
                   {"outcome", std::string("completed"), kStamp - 5},
                   {"participant_id", std::string("MAS-P0000001"), 0},
                   {"service_type", std::string("legal_migration_counselling"), 0}};
  return change;
}

Change Deletion(uint64_t seq) {
  return {"referrals", "MAS-R0000001", kHubInboundSite, seq, kStamp + seq, kStamp, true, {}};
}

// The seeds from before protocol version 3 keep their ChangeRun form; those named *_compact_*
// are in the compact form.
const protocol::RunCoding kChangeRun{.form = protocol::RunForm::kChangeRun};

std::string PushOf(uint64_t first, const std::vector<Change>& changes,
                   const protocol::RunCoding& coding = kChangeRun) {
  protocol::Push push{first, {}};
  for (const Change& change : changes) push.changes.push_back(protocol::EncodeChange(change));
  return protocol::EncodeMessage(push, coding);
}

// A compact push frame of `count` changes whose run is `raw`, padded to whole words.
std::string CompactPush(uint64_t first, uint32_t count, std::string raw) {
  raw.resize((raw.size() + 7) / 8 * 8, '\0');
  std::string compressed(ZSTD_compressBound(raw.size()), '\0');
  compressed.resize(ZSTD_compress(compressed.data(), compressed.size(), raw.data(), raw.size(), 3));
  return RawPush(first, count, static_cast<uint32_t>(raw.size()), compressed, true);
}

class Writer {
 public:
  explicit Writer(std::string dir) : dir_(std::move(dir)) {}

  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream out(dir_ + "/" + name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::cerr << "cannot write " << dir_ << "/" << name << "\n";
      failed_ = true;
      return;
    }
    // Keep the promise of the name: valid_* accepted, bad_* refused.
    Status status;
    hub::Inbound inbound;
    std::string broken = CheckHubInbound(
        {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, &status, &inbound);
    bool want_ok = name.rfind("valid_", 0) == 0;
    bool either = name.rfind("edge_", 0) == 0;
    if (!broken.empty() || (!either && status.ok() != want_ok)) {
      std::cerr << name << ": unexpected outcome: " << (status.ok() ? "ok" : status.ToString())
                << (broken.empty() ? "" : " (" + broken + ")") << "\n";
      failed_ = true;
    }
    std::cout << name << " (" << bytes.size()
              << " bytes): " << (status.ok() ? "accepted" : status.ToString()) << "\n";
  }
  bool failed() const { return failed_; }

 private:
  std::string dir_;
  bool failed_ = false;
};

int Main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: hub_inbound_seeds DIR\n";
    return 2;
  }
  Writer w(argv[1]);
  const uint64_t hash = config::DefaultSchema().hash();

  // Every message kind, well formed.
  std::string hello = protocol::EncodeMessage(protocol::Hello{
      protocol::kProtocolVersion, kHubInboundSite, hash, 3, 10, kStamp, "epoch-0123456789"});
  w.Write("valid_hello", hello);
  std::string push = PushOf(1, {Participant("MAS-P0000001", 1), Service(2), Deletion(3)});
  w.Write("valid_push", push);
  w.Write("valid_push_one_change", PushOf(42, {Participant("MAS-P0000042", 42)}));
  w.Write("valid_ack", protocol::EncodeMessage(protocol::Ack{5, true}));
  w.Write("valid_cursor_ack", protocol::EncodeMessage(protocol::CursorAck{77}));
  w.Write("valid_error", protocol::EncodeMessage(protocol::ErrorReply{
                             ErrorCode::kBadInput, "participants/MAS-P1: no", kStamp}));
  w.Write("valid_welcome",
          protocol::EncodeMessage(protocol::Welcome{3, 9, kStamp, "epoch-0123456789", 300000}));
  Change country{"countries", "PH", "MNL", 7,
                 kStamp,      0,    false, {{"name", std::string("Philippines"), 0}}};
  std::vector<std::string> delivered = {protocol::EncodeChange(country),
                                        protocol::EncodeChange(Service(9))};
  w.Write("valid_deliver",
          protocol::EncodeMessage(protocol::Deliver{7, 9, 9, {7, 9}, delivered, {}}, kChangeRun));
  w.Write("valid_deliver_empty", protocol::EncodeMessage(protocol::Deliver{7, 9, 9, {}, {}, {}}));

  // Hub changes handed back after a restore: sealed by this hub, or not.
  const protocol::Sealer& sealer = HubInboundSealer();
  std::string sealed = protocol::EncodeChange(country);
  w.Write("valid_reoffer",
          protocol::EncodeMessage(protocol::Reoffer{3, {sealed}, {sealer.Seal(sealed)}}));
  std::string forged_seal = sealer.Seal(sealed);
  forged_seal[0] ^= 1;
  w.Write("bad_reoffer_forged_seal",
          protocol::EncodeMessage(protocol::Reoffer{3, {sealed}, {forged_seal}}));
  Change site_change = Participant("MAS-P0000009", 9);
  std::string site_bytes = protocol::EncodeChange(site_change);
  w.Write("bad_reoffer_site_change",
          protocol::EncodeMessage(protocol::Reoffer{3, {site_bytes}, {sealer.Seal(site_bytes)}}));

  // Pushes whose changes the hub must refuse.
  Change forged = Participant("MAS-P0000002", 1);
  forged.origin = "ANT";
  w.Write("bad_push_forged_origin", PushOf(1, {forged}));
  Change foreign = Participant("ANT-P0000001", 1);
  w.Write("bad_push_other_site_id", PushOf(1, {foreign}));
  Change reference = country;
  reference.origin = kHubInboundSite;
  reference.seq = 1;
  w.Write("bad_push_reference_write", PushOf(1, {reference}));
  w.Write("bad_push_wrong_sequence", PushOf(1, {Participant("MAS-P0000001", 1), Service(3)}));
  w.Write("bad_push_sequence_wraps",
          PushOf(UINT64_MAX, {Participant("MAS-P0000001", UINT64_MAX), Service(0)}));
  w.Write("bad_push_sequence_zero", PushOf(0, {Participant("MAS-P0000001", 0)}));
  Change future = Participant("MAS-P0000001", 1);
  future.stamp = storage::StampOf(kHubInboundNowMs + 6 * 60 * 1000);
  w.Write("bad_push_future_stamp", PushOf(1, {future}));
  Change delete_with_fields = Deletion(1);
  delete_with_fields.fields = {{"status", std::string("pending"), 0}};
  w.Write("bad_push_delete_with_fields", PushOf(1, {delete_with_fields}));
  Change unknown_collection = Participant("MAS-X0000001", 1);
  unknown_collection.collection = "payroll";
  w.Write("bad_push_unknown_collection", PushOf(1, {unknown_collection}));
  Change unknown_field = Participant("MAS-P0000001", 1);
  unknown_field.fields.push_back({"zzz_salary", int64_t{1000}, 0});
  w.Write("bad_push_unknown_field", PushOf(1, {unknown_field}));
  Change wrong_type = Participant("MAS-P0000001", 1);
  wrong_type.fields[1].value = std::string("yes");  // consent
  w.Write("bad_push_wrong_type", PushOf(1, {wrong_type}));
  Change bad_enum = Participant("MAS-P0000001", 1);
  bad_enum.fields[5].value = std::string("X");  // sex
  w.Write("bad_push_bad_enum", PushOf(1, {bad_enum}));
  Change bad_date = Participant("MAS-P0000001", 1);
  bad_date.fields[0].value = std::string("2023-02-29");  // birth_date, not a leap year
  w.Write("bad_push_bad_date", PushOf(1, {bad_date}));
  Change bad_datetime = Participant("MAS-P0000001", 1);
  bad_datetime.fields[4].value = std::string("2024-12-31T24:00:00Z");  // registered_at
  w.Write("bad_push_bad_datetime", PushOf(1, {bad_datetime}));
  Change nul = Participant("MAS-P0000001", 1);
  nul.fields[2].value = std::string("Dela\0Cruz", 9);  // family_name
  w.Write("bad_push_nul_in_text", PushOf(1, {nul}));
  Change nan = Participant("MAS-P0000001", 1);
  nan.fields[2].value = std::nan("");
  w.Write("bad_push_nan", PushOf(1, {nan}));
  Change unsorted = Participant("MAS-P0000001", 1);
  std::swap(unsorted.fields[0], unsorted.fields[1]);
  w.Write("bad_push_unsorted_fields", PushOf(1, {unsorted}));
  Change other_site = Participant("MAS-P0000001", 1);
  other_site.fields[6].value = std::string("ANT");  // site, not the id's
  w.Write("bad_push_site_not_id_site", PushOf(1, {other_site}));
  Change old_birth = Participant("MAS-P0000001", 1);
  old_birth.fields[0].value = std::string("1899-12-31");  // birth_date before the schema's min
  w.Write("bad_push_birth_before_1900", PushOf(1, {old_birth}));
  Change bidi = Participant("MAS-P0000001", 1);
  bidi.fields[2].value = std::string("Dela\u202eCruz");  // family_name, right-to-left override
  w.Write("bad_push_bidi_in_text", PushOf(1, {bidi}));
  Change blank = Participant("MAS-P0000001", 1);
  blank.fields[3].value = std::string("  ");  // given_name, required
  w.Write("bad_push_blank_required_text", PushOf(1, {blank}));
  Change cross_site = Service(1);
  cross_site.fields[2].value = std::string("ANT-P0000001");  // participant_id of another site
  w.Write("bad_push_ref_other_site", PushOf(1, {cross_site}));
  w.Write("bad_push_id_bad_character", PushOf(1, {Participant("MAS-P.001", 1)}));
  Change space_id = Participant("MAS-P 001", 1);
  w.Write("bad_push_id_with_space", PushOf(1, {space_id}));
  Change long_id = Participant("MAS-" + std::string(70, '9'), 1);
  w.Write("bad_push_id_too_long", PushOf(1, {long_id}));
  w.Write("bad_push_empty_change", protocol::EncodeMessage(protocol::Push{1, {""}}, kChangeRun));
  w.Write("edge_push_change_trailing_byte",
          protocol::EncodeMessage(protocol::Push{1, {protocol::EncodeChange(Service(1)) + "x"}},
                                  kChangeRun));
  std::string change = protocol::EncodeChange(Service(1));
  w.Write("bad_push_change_truncated",
          protocol::EncodeMessage(protocol::Push{1, {change.substr(0, change.size() / 2)}},
                                  kChangeRun));
  change[0] = '\x7f';  // the packed tag of the segment table
  w.Write("bad_push_change_garbled",
          protocol::EncodeMessage(protocol::Push{1, {change}}, kChangeRun));

  // Pushes whose framing lies.
  uint32_t raw_size = 0;
  std::string compressed;
  PushParts(push, &raw_size, &compressed);
  w.Write("bad_push_count_mismatch", RawPush(1, 5, raw_size, compressed));
  w.Write("bad_push_count_zero", RawPush(1, 0, raw_size, compressed));
  w.Write("bad_push_huge_raw_size", RawPush(1, 3, 0xFFFFFFF8u, compressed));
  w.Write("bad_push_raw_size_at_limit", RawPush(1, 3, 64u << 20, compressed));
  w.Write("bad_push_raw_size_short", RawPush(1, 3, raw_size - 8, compressed));
  w.Write("bad_push_raw_size_not_words", RawPush(1, 3, raw_size + 3, compressed));
  w.Write("bad_push_raw_size_zero", RawPush(1, 3, 0, compressed));
  std::string corrupt = compressed;
  corrupt[0] ^= 0x5a;  // the zstd magic number
  w.Write("bad_push_corrupt_compressed", RawPush(1, 3, raw_size, corrupt));
  w.Write("bad_push_compressed_missing", RawPush(1, 3, raw_size, ""));
  w.Write("bad_push_empty", protocol::EncodeMessage(protocol::Push{1, {}}, kChangeRun));

  // Frames that are not messages.
  w.Write("bad_empty_frame", "");
  w.Write("bad_hello_truncated", hello.substr(0, hello.size() - 8));
  w.Write("bad_hello_not_words", hello + "abc");
  std::string segments = hello;
  segments[2] = '\x01';  // 65537 segments
  w.Write("bad_segment_count", segments);
  segments[0] = segments[1] = segments[2] = segments[3] = '\xff';  // 2^32 segments: wraps to 1
  w.Write("valid_segment_count_wraps", segments);
  std::string segment_size = hello;
  segment_size[4] = segment_size[5] = segment_size[6] = '\xff';  // first segment too large
  w.Write("bad_segment_size", segment_size);
  std::string kind = protocol::EncodeMessage(protocol::Ack{5, true});
  kind[16] = 99;  // the root struct's union discriminant
  w.Write("bad_unknown_message_kind", kind);
  std::string site = protocol::EncodeMessage(
      protocol::Hello{protocol::kProtocolVersion, "MASQ", hash, 3, 10, kStamp, ""});
  size_t at = site.find(std::string("MASQ\0", 5));
  if (at != std::string::npos) site[at + 4] = 'Q';  // Text without its NUL
  w.Write("bad_text_not_nul_terminated", site);
  std::string pointer = hello;
  pointer[8] = '\xfd';  // the root pointer aims far outside the segment
  pointer[9] = pointer[10] = pointer[11] = '\x7f';
  w.Write("bad_root_pointer_out_of_bounds", pointer);
  w.Write("bad_deliver_count_mismatch",
          protocol::EncodeMessage(protocol::Deliver{1, 3, 3, {1, 2, 3}, {change, change}, {}},
                                  kChangeRun));

  // Compact runs (protocol version 3): well formed, and cut, altered or lying.
  std::vector<Change> three = {Participant("MAS-P0000001", 1), Service(2), Deletion(3)};
  w.Write("valid_push_compact", PushOf(1, three, {}));
  Change of_ant = Participant("MAS-P0000001", 1);
  of_ant.origin = "ANT";
  w.Write("bad_push_compact_forged_origin", PushOf(1, {of_ant}, {}));
  std::vector<std::string> encoded;
  for (const Change& change : three) encoded.push_back(protocol::EncodeChange(change));
  std::string run = protocol::EncodeCompactRun({encoded, {}, {}});
  w.Write("bad_push_compact_truncated", CompactPush(1, 3, run.substr(0, run.size() / 2)));
  w.Write("bad_push_compact_trailing_bytes", CompactPush(1, 3, run + std::string(8, '\x01')));
  std::string format = run;
  format[0] = 2;
  w.Write("bad_push_compact_unknown_format", CompactPush(1, 3, format));
  std::string renamed = run;
  size_t name = renamed.find(
      "\x0b"
      "family_name");  // its table of names: now after given_name
  if (name != std::string::npos) renamed.replace(name + 1, 6, "zamily");
  w.Write("bad_push_compact_unsorted_fields", CompactPush(1, 3, renamed));
  w.Write("bad_push_compact_count_mismatch", CompactPush(1, 2, run));
  return w.failed() ? 1 : 0;
}

}  // namespace
}  // namespace osrc::fuzz

int main(int argc, char** argv) { return osrc::fuzz::Main(argc, argv); }
