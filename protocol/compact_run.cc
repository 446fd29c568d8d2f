#include "protocol/compact_run.h"

#include <cmath>
#include <cstring>
#include <unordered_map>

#include "protocol/seal.h"

namespace osrc::protocol {
namespace {

constexpr uint64_t kFormat = 1;

// A change's kind, its flags, and a field value's tag.
constexpr uint8_t kRebuilt = 0, kStored = 1;
constexpr uint8_t kDeleted = 1, kErased = 2, kHasBase = 4, kHasBaseOrigin = 8;
constexpr uint8_t kNull = 0, kFalse = 1, kTrue = 2, kInt = 3, kFloat = 4, kText = 5;
constexpr uint8_t kKindMask = 7, kFieldHasBase = 8, kFieldHasBaseOrigin = 16;

uint64_t ZigZag(int64_t value) {
  return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
}
int64_t UnZigZag(uint64_t value) {
  return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}
// Differences wrap modulo 2^64, so any pair of values has one.
int64_t Difference(uint64_t from, uint64_t to) { return static_cast<int64_t>(to - from); }

class Column {
 public:
  void Byte(uint8_t value) { bytes_.push_back(static_cast<char>(value)); }
  void Varint(uint64_t value) {
    while (value >= 0x80) {
      Byte(static_cast<uint8_t>(value | 0x80));
      value >>= 7;
    }
    Byte(static_cast<uint8_t>(value));
  }
  void Signed(int64_t value) { Varint(ZigZag(value)); }
  void Text(std::string_view text) {
    Varint(text.size());
    bytes_.append(text);
  }
  void Raw(std::string_view bytes) { bytes_.append(bytes); }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// The run's table of names: collections, origins, field names.
class NameTable {
 public:
  uint64_t IndexOf(const std::string& name) {
    auto [it, added] = index_.try_emplace(name, names_.size());
    if (added) names_.push_back(name);
    return it->second;
  }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::unordered_map<std::string, uint64_t> index_;
  std::vector<std::string> names_;
};

size_t SharedPrefix(std::string_view a, std::string_view b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

// The columns of a run, in the order they are written: Columns to write, Readers to read.
template <typename T>
struct ColumnSet {
  T kinds, stored, flags, collections, origins, ids, seqs, stamps, bases, base_origins, field_names,
      page_seqs, seals;
  std::vector<T*> All() {
    return {&kinds,  &stored, &flags,        &collections, &origins,   &ids,  &seqs,
            &stamps, &bases,  &base_origins, &field_names, &page_seqs, &seals};
  }
};

const std::optional<Change> kNotRebuildable;

// Whether `bytes` decode, as `*change`, to what EncodeChange makes them again (or, for values,
// only whether they decode). Under the default
// limits, which every receiver applies: bytes beyond them travel as they are (and are refused
// there), and a segment table claiming gigabytes allocates nothing here.
bool Rebuildable(const std::string& bytes, Change* change, RunFidelity fidelity) {
  return DecodeChange(bytes, DecodeLimits{}, change).ok() &&
         (fidelity == RunFidelity::kValues || EncodeChange(*change) == bytes);
}

// Thrown inside decoding only, where it becomes the Status; names what failed.
struct Malformed {
  std::string what;
};

class Reader {
 public:
  Reader() = default;
  Reader(std::string_view bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}

  uint8_t Byte() {
    if (at_ >= bytes_.size()) Fail("ends early");
    return static_cast<uint8_t>(bytes_[at_++]);
  }
  uint64_t Varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t byte = Byte();
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    Fail("holds a number longer than 64 bits");
  }
  int64_t Signed() { return UnZigZag(Varint()); }
  std::string_view Take(uint64_t size) {
    if (size > bytes_.size() - at_) Fail("ends inside a value");
    std::string_view out = bytes_.substr(at_, size);
    at_ += size;
    return out;
  }
  std::string_view Text(size_t max_text) {
    uint64_t size = Varint();
    if (size > max_text) Fail("holds a text longer than " + std::to_string(max_text) + " bytes");
    return Take(size);
  }
  bool done() const { return at_ == bytes_.size(); }
  size_t left() const { return bytes_.size() - at_; }
  [[noreturn]] void Fail(const std::string& what) const {
    throw Malformed{name_ + " column " + what};
  }

 private:
  std::string_view bytes_;
  size_t at_ = 0;
  std::string name_;
};

void WriteValue(const Field& field, uint64_t stamp, uint64_t base_origin, Column* out) {
  uint8_t tag = 0;
  switch (field.value.index()) {
    case 0:
      tag = kNull;
      break;
    case 1:
      tag = std::get<bool>(field.value) ? kTrue : kFalse;
      break;
    case 2:
      tag = kInt;
      break;
    case 3:
      tag = kFloat;
      break;
    case 4:
      tag = kText;
      break;
  }
  if (field.base != 0) tag |= kFieldHasBase;
  if (!field.base_origin.empty()) tag |= kFieldHasBaseOrigin;
  out->Byte(tag);
  if (tag & kFieldHasBase) out->Signed(Difference(field.base, stamp));
  if (tag & kFieldHasBaseOrigin) out->Varint(base_origin);
  if (const auto* number = std::get_if<int64_t>(&field.value)) out->Signed(*number);
  if (const auto* number = std::get_if<double>(&field.value)) {
    uint64_t bits;
    std::memcpy(&bits, number, sizeof bits);
    for (int i = 0; i < 8; ++i) out->Byte(static_cast<uint8_t>(bits >> (8 * i)));
  }
  if (const auto* text = std::get_if<std::string>(&field.value)) out->Text(*text);
}

}  // namespace

const std::optional<Change>* RebuildCache::Find(const std::string& bytes) const {
  auto it = changes_.find(bytes);
  return it == changes_.end() ? nullptr : &it->second;
}

void RebuildCache::Add(const std::string& bytes, std::optional<Change> change) {
  if (capacity_ == 0 || !changes_.try_emplace(bytes, std::move(change)).second) return;
  order_.push_back(bytes);
  if (order_.size() > capacity_) {
    changes_.erase(order_.front());
    order_.pop_front();
  }
}

std::string EncodeCompactRun(std::span<const std::string> changes, std::span<const uint64_t> seqs,
                             std::span<const std::string> seals, RebuildCache* cache,
                             RunFidelity fidelity) {
  ColumnSet<Column> columns;
  NameTable names;
  std::vector<Column> values;  // one per name, for the fields of that name
  auto values_of = [&](uint64_t name) -> Column& {
    if (values.size() <= name) values.resize(name + 1);
    return values[name];
  };
  uint64_t seq = 0, stamp = 0;
  std::string id;
  Change decoded;
  if (fidelity != RunFidelity::kExactBytes) cache = nullptr;  // it holds what came back exactly
  for (const std::string& bytes : changes) {
    const std::optional<Change>* seen = cache == nullptr ? nullptr : cache->Find(bytes);
    if (seen == nullptr) {
      bool rebuildable = Rebuildable(bytes, &decoded, fidelity);
      if (cache != nullptr) {
        cache->Add(bytes, rebuildable ? std::optional<Change>(decoded) : std::nullopt);
      }
      if (!rebuildable) seen = &kNotRebuildable;
    }
    if (seen != nullptr && !*seen) {
      columns.kinds.Byte(kStored);
      columns.stored.Text(bytes);
      continue;
    }
    const Change& change = seen != nullptr ? **seen : decoded;
    columns.kinds.Byte(kRebuilt);
    uint8_t flags = (change.deleted ? kDeleted : 0) | (change.erased ? kErased : 0) |
                    (change.base != 0 ? kHasBase : 0) |
                    (change.base_origin.empty() ? 0 : kHasBaseOrigin);
    columns.flags.Byte(flags);
    columns.collections.Varint(names.IndexOf(change.collection));
    columns.origins.Varint(names.IndexOf(change.origin));
    size_t shared = SharedPrefix(id, change.id);
    columns.ids.Varint(shared);
    columns.ids.Text(std::string_view(change.id).substr(shared));
    id = change.id;
    columns.seqs.Signed(Difference(seq, change.seq));
    seq = change.seq;
    columns.stamps.Signed(Difference(stamp, change.stamp));
    stamp = change.stamp;
    if (flags & kHasBase) columns.bases.Signed(Difference(change.base, change.stamp));
    if (flags & kHasBaseOrigin) columns.base_origins.Varint(names.IndexOf(change.base_origin));
    columns.field_names.Varint(change.fields.size());
    for (const Field& field : change.fields) {
      uint64_t name = names.IndexOf(field.name);
      columns.field_names.Varint(name);
      uint64_t base_origin = field.base_origin.empty() ? 0 : names.IndexOf(field.base_origin);
      WriteValue(field, change.stamp, base_origin, &values_of(name));
    }
  }
  uint64_t previous = 0;
  for (uint64_t page_seq : seqs) {
    columns.page_seqs.Signed(Difference(previous, page_seq));
    previous = page_seq;
  }
  for (const std::string& seal : seals) columns.seals.Raw(seal);

  Column out;
  out.Varint(kFormat);
  out.Varint(changes.size());
  out.Varint(seqs.size());
  out.Varint(seals.size());
  out.Varint(names.names().size());
  for (const std::string& name : names.names()) out.Text(name);
  for (Column* column : columns.All()) out.Text(column->bytes());
  values.resize(names.names().size());
  for (const Column& column : values) out.Text(column.bytes());
  std::string bytes = out.bytes();
  bytes.resize((bytes.size() + 7) / 8 * 8, '\0');
  return bytes;
}

namespace {

constexpr const char* kColumnNames[] = {
    "kinds",       "stored changes", "flags",  "collections", "origins",
    "ids",         "sequences",      "stamps", "bases",       "base origins",
    "field names", "page sequences", "seals"};

class RunDecoder {
 public:
  RunDecoder(std::string_view bytes, size_t max_changes, const DecodeLimits& limits)
      : run_(bytes, "run"), max_changes_(max_changes), limits_(limits) {}

  void Decode(RunContents* out, std::vector<std::optional<Change>>* values) {
    if (run_.Varint() != kFormat) run_.Fail("is of an unknown format");
    uint64_t count = run_.Varint();
    if (count > max_changes_)
      run_.Fail("holds more than " + std::to_string(max_changes_) + " changes");
    uint64_t seq_count = run_.Varint(), seal_count = run_.Varint();
    if ((seq_count != 0 && seq_count != count) || (seal_count != 0 && seal_count != count)) {
      run_.Fail("holds page sequences or seals not one per change");
    }
    uint64_t name_count = run_.Varint();
    // Each name takes a byte at least: a count beyond the bytes left is no table of names.
    if (name_count > run_.left()) run_.Fail("holds more names than bytes");
    names_.reserve(name_count);
    for (uint64_t i = 0; i < name_count; ++i) names_.emplace_back(run_.Text(limits_.max_text));
    size_t column = 0;
    for (Reader* reader : columns_.All()) {
      *reader = Reader(run_.Text(SIZE_MAX), kColumnNames[column++]);
    }
    for (uint64_t i = 0; i < name_count; ++i) {
      values_.emplace_back(run_.Text(SIZE_MAX), "values of \"" + names_[i] + "\"");
    }
    while (!run_.done()) {
      if (run_.Byte() != 0) run_.Fail("has bytes after its columns");
    }
    out->changes.resize(count);
    if (values != nullptr) values->assign(count, std::nullopt);
    for (uint64_t i = 0; i < count; ++i) {
      try {
        uint8_t kind = columns_.kinds.Byte();
        if (kind != kRebuilt && kind != kStored) columns_.kinds.Fail("holds an unknown kind");
        if (kind == kStored) {
          out->changes[i] = columns_.stored.Text(limits_.max_bytes);
        } else if (values != nullptr) {
          (*values)[i] = NextChange();
        } else {
          out->changes[i] = EncodeChange(NextChange());
        }
      } catch (Malformed& error) {
        error.what =
            "change " + std::to_string(i + 1) + " of " + std::to_string(count) + ": " + error.what;
        throw;
      }
    }
    uint64_t page_seq = 0;
    for (uint64_t i = 0; i < seq_count; ++i) {
      page_seq += static_cast<uint64_t>(columns_.page_seqs.Signed());
      out->seqs.push_back(page_seq);
    }
    for (uint64_t i = 0; i < seal_count; ++i) {
      out->seals.emplace_back(columns_.seals.Take(kSealBytes));
    }
    for (Reader* reader : columns_.All()) {
      if (!reader->done()) reader->Fail("has bytes its changes do not use");
    }
    for (const Reader& reader : values_) {
      if (!reader.done()) reader.Fail("has bytes its fields do not use");
    }
  }

 private:
  const std::string& Name(Reader& from) {
    uint64_t index = from.Varint();
    if (index >= names_.size()) from.Fail("names entry " + std::to_string(index) + " of none");
    return names_[index];
  }

  // The next change rebuilt from the columns.
  Change NextChange() {
    Change change;
    uint8_t flags = columns_.flags.Byte();
    if (flags & ~(kDeleted | kErased | kHasBase | kHasBaseOrigin)) {
      columns_.flags.Fail("holds unknown flags");
    }
    change.deleted = flags & kDeleted;
    change.erased = flags & kErased;
    change.collection = Name(columns_.collections);
    change.origin = Name(columns_.origins);
    uint64_t shared = columns_.ids.Varint();
    if (shared > id_.size()) columns_.ids.Fail("shares more than the previous id");
    id_.resize(shared);
    id_ += columns_.ids.Text(limits_.max_text);
    if (id_.size() > limits_.max_text) columns_.ids.Fail("holds an id that is too long");
    change.id = id_;
    seq_ += static_cast<uint64_t>(columns_.seqs.Signed());
    stamp_ += static_cast<uint64_t>(columns_.stamps.Signed());
    change.seq = seq_;
    change.stamp = stamp_;
    if (flags & kHasBase) change.base = stamp_ - static_cast<uint64_t>(columns_.bases.Signed());
    if (flags & kHasBaseOrigin) change.base_origin = Name(columns_.base_origins);
    uint64_t field_count = columns_.field_names.Varint();
    if (field_count > limits_.max_fields) columns_.field_names.Fail("holds too many fields");
    if (change.erased && (!change.deleted || field_count != 0)) {
      columns_.flags.Fail("holds an erasure that is not a delete without fields");
    }
    size_t text_bytes = change.collection.size() + change.id.size() + change.origin.size();
    change.fields.resize(field_count);
    for (Field& field : change.fields) {
      uint64_t name = columns_.field_names.Varint();
      if (name >= names_.size()) columns_.field_names.Fail("names entry of none");
      field.name = names_[name];
      ReadValue(values_[name], &field);
      text_bytes += field.name.size();
      if (const auto* text = std::get_if<std::string>(&field.value)) text_bytes += text->size();
    }
    for (size_t i = 1; i < change.fields.size(); ++i) {
      if (!(change.fields[i - 1].name < change.fields[i].name)) {
        columns_.field_names.Fail("holds fields not sorted or not unique");
      }
    }
    if (text_bytes > limits_.max_bytes) columns_.ids.Fail("holds a change that is too large");
    return change;
  }

  void ReadValue(Reader& from, Field* field) {
    uint8_t tag = from.Byte();
    if (tag & ~(kKindMask | kFieldHasBase | kFieldHasBaseOrigin)) from.Fail("holds unknown tags");
    if (tag & kFieldHasBase) field->base = stamp_ - static_cast<uint64_t>(from.Signed());
    if (tag & kFieldHasBaseOrigin) field->base_origin = Name(from);
    switch (tag & kKindMask) {
      case kNull:
        field->value = std::monostate{};
        return;
      case kFalse:
      case kTrue:
        field->value = (tag & kKindMask) == kTrue;
        return;
      case kInt:
        field->value = from.Signed();
        return;
      case kFloat: {
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits |= static_cast<uint64_t>(from.Byte()) << (8 * i);
        double number;
        std::memcpy(&number, &bits, sizeof number);
        if (!std::isfinite(number)) from.Fail("holds a float that is not finite");
        field->value = number;
        return;
      }
      case kText:
        field->value = std::string(from.Text(limits_.max_text));
        return;
    }
    from.Fail("holds an unknown value kind");
  }

  Reader run_;
  size_t max_changes_;
  const DecodeLimits& limits_;
  std::vector<std::string> names_;
  ColumnSet<Reader> columns_;
  std::vector<Reader> values_;
  std::string id_;
  uint64_t seq_ = 0, stamp_ = 0;
};

}  // namespace

Status DecodeCompactRun(std::string_view bytes, size_t max_changes, const DecodeLimits& limits,
                        RunContents* out, std::vector<std::optional<Change>>* values) {
  try {
    RunContents contents;
    RunDecoder(bytes, max_changes, limits).Decode(&contents, values);
    *out = std::move(contents);
    return {};
  } catch (const Malformed& error) {
    return {ErrorCode::kBadMessage, "compact run: " + error.what};
  } catch (const std::bad_alloc&) {
    return {ErrorCode::kBadMessage, "compact run: too large to decode"};
  }
}

}  // namespace osrc::protocol
