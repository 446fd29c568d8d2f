#include "protocol/run_history.h"

#include <zstd.h>

#include <algorithm>
#include <memory>

namespace osrc::protocol {
namespace {

struct FreeCCtx {
  void operator()(ZSTD_CCtx* context) const { ZSTD_freeCCtx(context); }
};
struct FreeDCtx {
  void operator()(ZSTD_DCtx* context) const { ZSTD_freeDCtx(context); }
};

void Check(size_t result, const char* what) {
  if (ZSTD_isError(result)) {
    throw Error(ErrorCode::kInternal, std::string(what) + ": " + ZSTD_getErrorName(result));
  }
}

// Levels above the default search harder in tables no larger than the default's: zstd's own
// tables for level 6 or 9 are three times as large for the same bytes saved (within 0.2%).
constexpr int kMaxHashLog = 17;
constexpr int kMaxChainLog = 16;

void SetLevel(ZSTD_CCtx* context, int level) {
  Check(ZSTD_CCtx_reset(context, ZSTD_reset_session_and_parameters), "zstd reset");
  Check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level), "zstd level");
  if (level > kDefaultRunLevel) {
    Check(ZSTD_CCtx_setParameter(context, ZSTD_c_hashLog, kMaxHashLog), "zstd hash log");
    Check(ZSTD_CCtx_setParameter(context, ZSTD_c_chainLog, kMaxChainLog), "zstd chain log");
  }
  Check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1), "zstd checksum");
}

// zstd sizes a context for the level and the input, and allocates it afresh (new pages, each
// touched again) whenever a run needs more than any before. One compression of a whole block at
// the hardest level sizes each thread's context once for every later run.
void SizeForEveryRun(ZSTD_CCtx* context) {
  const std::string block(ZSTD_BLOCKSIZE_MAX, '\0');
  SetLevel(context, kHardestRunLevel);
  std::string out(ZSTD_compressBound(block.size()), '\0');
  Check(ZSTD_compress2(context, out.data(), out.size(), block.data(), block.size()),
        "zstd compression");
}

ZSTD_CCtx* Compressor() {
  thread_local std::unique_ptr<ZSTD_CCtx, FreeCCtx> context = [] {
    std::unique_ptr<ZSTD_CCtx, FreeCCtx> made(ZSTD_createCCtx());
    if (made) SizeForEveryRun(made.get());
    return made;
  }();
  if (!context) throw Error(ErrorCode::kInternal, "out of memory for zstd");
  return context.get();
}

ZSTD_DCtx* Decompressor() {
  thread_local std::unique_ptr<ZSTD_DCtx, FreeDCtx> context(ZSTD_createDCtx());
  if (!context) throw Error(ErrorCode::kInternal, "out of memory for zstd");
  return context.get();
}

}  // namespace

std::string_view RunHistory::PrefixFor(size_t raw_size) const {
  constexpr size_t kMinPrefixBytes = 16 * 1024;
  size_t wanted = std::clamp(raw_size * 16, kMinPrefixBytes, kHistoryBytes);
  return std::string_view(window_).substr(window_.size() - std::min(wanted, window_.size()));
}

void RunHistory::Append(std::string_view raw) {
  carried_ += raw.size();
  if (raw.size() >= kHistoryBytes) {
    window_.assign(raw.substr(raw.size() - kHistoryBytes));
    return;
  }
  size_t keep = std::min(window_.size(), kHistoryBytes - raw.size());
  window_.erase(0, window_.size() - keep);
  window_.append(raw);
}

std::string CompressRun(std::string_view raw, RunHistory* history, int level) {
  ZSTD_CCtx* context = Compressor();
  SetLevel(context, std::min(level, kHardestRunLevel));
  if (history != nullptr && !history->window().empty()) {
    std::string_view prefix = history->PrefixFor(raw.size());
    Check(ZSTD_CCtx_refPrefix(context, prefix.data(), prefix.size()), "zstd prefix");
  }
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  size_t size = ZSTD_compress2(context, out.data(), out.size(), raw.data(), raw.size());
  Check(size, "zstd compression");
  out.resize(size);
  if (history != nullptr) history->Append(raw);
  return out;
}

size_t CompressorBytes() { return ZSTD_sizeof_CCtx(Compressor()); }

bool DecompressFrame(std::string_view compressed, size_t max_raw_bytes, std::string* raw) {
  unsigned long long size = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR || size > max_raw_bytes) {
    return false;
  }
  raw->resize(size);
  ZSTD_DCtx* context = Decompressor();
  Check(ZSTD_DCtx_reset(context, ZSTD_reset_session_and_parameters), "zstd reset");
  size_t got =
      ZSTD_decompressDCtx(context, raw->data(), raw->size(), compressed.data(), compressed.size());
  return !ZSTD_isError(got) && got == size;
}

Status DecompressRun(const RunFrame& frame, size_t max_raw_bytes, RunHistory* history,
                     kj::Array<capnp::word>* raw) {
  const uint32_t raw_size = frame.raw_size;
  if (raw_size > max_raw_bytes || raw_size % sizeof(capnp::word) != 0 || raw_size == 0) {
    return {ErrorCode::kBadMessage, "change run size " + std::to_string(raw_size) + " refused"};
  }
  if (frame.chained && history == nullptr) {
    return {ErrorCode::kBadMessage, "change run compressed against a connection's history"};
  }
  if (frame.chained && frame.carried != history->carried()) {
    return {ErrorCode::kBadMessage, "change run compressed after " + std::to_string(frame.carried) +
                                        " bytes of this connection, which carried " +
                                        std::to_string(history->carried())};
  }
  // Believe a claimed size only when the frame states the same, before allocating for it.
  const uint8_t* data = frame.compressed.data();
  unsigned long long frame_size = ZSTD_getFrameContentSize(data, frame.compressed.size());
  if (frame_size == ZSTD_CONTENTSIZE_UNKNOWN || frame_size == ZSTD_CONTENTSIZE_ERROR) {
    return {ErrorCode::kBadMessage, "change run is not a zstd frame that states its content size"};
  }
  if (frame_size != raw_size) {
    return {ErrorCode::kBadMessage, "change run size " + std::to_string(raw_size) +
                                        " does not match its zstd frame content size " +
                                        std::to_string(frame_size)};
  }
  ZSTD_DCtx* context = Decompressor();
  Check(ZSTD_DCtx_reset(context, ZSTD_reset_session_and_parameters), "zstd reset");
  if (frame.chained && !history->window().empty()) {
    std::string_view prefix = history->PrefixFor(raw_size);
    Check(ZSTD_DCtx_refPrefix(context, prefix.data(), prefix.size()), "zstd prefix");
  }
  auto words = kj::heapArray<capnp::word>(raw_size / sizeof(capnp::word));
  size_t size =
      ZSTD_decompressDCtx(context, words.begin(), raw_size, data, frame.compressed.size());
  if (ZSTD_isError(size) || size != raw_size) {
    return {ErrorCode::kBadMessage, "change run does not decompress to its stated size"};
  }
  if (frame.chained) history->Append({reinterpret_cast<const char*>(words.begin()), raw_size});
  *raw = std::move(words);
  return {};
}

}  // namespace osrc::protocol
