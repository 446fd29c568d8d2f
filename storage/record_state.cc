#include "storage/record_state.h"

#include <cstring>

#include "storage/varint.h"

namespace osrc::storage {

void AppendBase(std::string* out, const Base& base) {
  AppendVarint(out, base.stamp);
  AppendString(out, base.origin);
}

bool ReadBase(std::string_view* in, Base* base, uint32_t format) {
  if (!ReadVarint(in, &base->stamp)) return false;
  if (format < 2) {
    base->origin.clear();
    return true;
  }
  return ReadString(in, &base->origin);
}

void AppendVersion(std::string* out, const Version& version) {
  AppendVarint(out, version.stamp);
  AppendString(out, version.origin);
  AppendBase(out, version.base);
}

bool ReadVersion(std::string_view* in, Version* version, uint32_t format) {
  return ReadVarint(in, &version->stamp) && ReadString(in, &version->origin) &&
         ReadBase(in, &version->base, format);
}

uint64_t RecordState::max_stamp() const {
  uint64_t stamp = tombstone ? tombstone->stamp : 0;
  for (const auto& [name, field] : fields) stamp = std::max(stamp, field.version.stamp);
  return stamp;
}

Base RecordState::Newest() const {
  Base newest;
  auto consider = [&](const Version& version) {
    if (version.stamp > newest.stamp ||
        (version.stamp == newest.stamp && version.origin > newest.origin)) {
      newest = Base{version.stamp, version.origin};
    }
  };
  if (tombstone) consider(*tombstone);
  for (const auto& [name, field] : fields) consider(field.version);
  return newest;
}

namespace {

constexpr char kOwnVersion = static_cast<char>(0x80);

char TagOf(const Value& value) {
  switch (value.index()) {
    case 0:
      return 0;
    case 1:
      return std::get<bool>(value) ? 2 : 1;
    case 2:
      return 3;
    case 3:
      return 4;
    default:
      return 5;
  }
}

void AppendPayload(std::string* out, const Value& value) {
  if (const auto* number = std::get_if<int64_t>(&value)) {
    int64_t v = *number;
    AppendVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  } else if (const auto* real = std::get_if<double>(&value)) {
    char bytes[8];
    std::memcpy(bytes, real, 8);
    out->append(bytes, 8);
  } else if (const auto* text = std::get_if<std::string>(&value)) {
    AppendString(out, *text);
  }
}

bool ReadPayload(std::string_view* in, char tag, Value* value) {
  switch (tag) {
    case 0:
      *value = std::monostate{};
      return true;
    case 1:
      *value = false;
      return true;
    case 2:
      *value = true;
      return true;
    case 3: {
      uint64_t zigzag = 0;
      if (!ReadVarint(in, &zigzag)) return false;
      *value = static_cast<int64_t>((zigzag >> 1) ^ (~(zigzag & 1) + 1));
      return true;
    }
    case 4: {
      if (in->size() < 8) return false;
      double v;
      std::memcpy(&v, in->data(), 8);
      in->remove_prefix(8);
      *value = v;
      return true;
    }
    case 5: {
      std::string text;
      if (!ReadString(in, &text)) return false;
      *value = std::move(text);
      return true;
    }
  }
  return false;
}

// The first of the elements in [begin, end) (`count` of them) that most others equal by `same`;
// end if empty. A majority ends the search: none can share more.
template <typename It, typename Same>
It FirstOfMostCommon(It begin, It end, size_t count, Same same) {
  It best = end;
  size_t best_count = 0;
  for (It it = begin; it != end; ++it) {
    size_t shared = 0;
    for (It other = begin; other != end; ++other) shared += same(*it, *other);
    if (shared > best_count) {
      best = it;
      best_count = shared;
      if (2 * best_count > count) break;
    }
  }
  return best;
}

// `nfields [common] (name field_state)*` of `fields` (sorted by name), whose versions the caller
// knows: `same_version(a, b)` whether two fields share one, `append_version(out, field)` appends a
// field's; `name(field)` and `value(field)` give the rest.
template <typename Fields, typename SameVersion, typename AppendFieldVersion, typename NameOf,
          typename ValueOf>
void AppendFields(std::string* out, const Fields& fields, SameVersion same_version,
                  AppendFieldVersion append_version, NameOf name, ValueOf value) {
  AppendVarint(out, fields.size());
  auto common = FirstOfMostCommon(fields.begin(), fields.end(), fields.size(), same_version);
  if (common != fields.end()) append_version(out, *common);
  for (const auto& field : fields) {
    AppendString(out, name(field));
    bool own = !same_version(field, *common);
    out->push_back(static_cast<char>(TagOf(value(field)) | (own ? kOwnVersion : 0)));
    if (own) append_version(out, field);
    AppendPayload(out, value(field));
  }
}

}  // namespace

void AppendValue(std::string* out, const Value& value) {
  out->push_back(TagOf(value));
  AppendPayload(out, value);
}

bool ReadValue(std::string_view* in, Value* value) {
  if (in->empty()) return false;
  char tag = in->front();
  in->remove_prefix(1);
  return ReadPayload(in, tag, value);
}

std::string EncodeRecordState(const RecordState& state) {
  std::string out;
  out.reserve(64 + state.fields.size() * 32);
  out.push_back(state.tombstone ? 1 : 0);
  if (state.tombstone) {
    AppendVersion(&out, *state.tombstone);
    AppendVarint(&out, state.tomb_seen.size());
    for (const auto& [name, base] : state.tomb_seen) {
      AppendString(&out, name);
      AppendBase(&out, base);
    }
  }
  using Entry = std::pair<const std::string, FieldState>;
  AppendFields(
      &out, state.fields,
      [](const Entry& a, const Entry& b) { return a.second.version == b.second.version; },
      [](std::string* to, const Entry& field) { AppendVersion(to, field.second.version); },
      [](const Entry& field) -> const std::string& { return field.first; },
      [](const Entry& field) -> const Value& { return field.second.value; });
  return out;
}

std::optional<std::string> EncodeNewRecordState(const protocol::Change& change) {
  const std::vector<protocol::Field>& fields = change.fields;
  if (change.deleted || change.erased || fields.empty()) return std::nullopt;
  for (size_t i = 1; i < fields.size(); ++i) {
    if (!(fields[i - 1].name < fields[i].name)) return std::nullopt;
  }
  // Every field gets the change's stamp and origin: versions differ only by the field's base.
  std::string out;
  out.reserve(64 + fields.size() * 32);
  out.push_back(0);
  AppendFields(
      &out, fields,
      [](const protocol::Field& a, const protocol::Field& b) {
        return a.base == b.base && a.base_origin == b.base_origin;
      },
      [&](std::string* to, const protocol::Field& field) {
        AppendVarint(to, change.stamp);
        AppendString(to, change.origin);
        AppendVarint(to, field.base);
        AppendString(to, field.base_origin);
      },
      [](const protocol::Field& field) -> const std::string& { return field.name; },
      [](const protocol::Field& field) -> const Value& { return field.value; });
  return out;
}

bool RecordStateLive(std::string_view bytes) {
  if (!bytes.empty() && bytes.front() == 0) {  // no tombstone: the field count comes next
    std::string_view in = bytes.substr(1);
    uint64_t count = 0;
    if (ReadVarint(&in, &count)) return count > 0;
  }
  return DecodeRecordState(bytes).live();
}

RecordState DecodeRecordState(std::string_view in, uint32_t format) {
  RecordState state;
  auto fail = [] { throw Error(ErrorCode::kCorruption, "malformed record state in store"); };
  if (in.empty()) fail();
  bool has_tomb = in.front() == 1;
  in.remove_prefix(1);
  if (has_tomb) {
    state.tombstone.emplace();
    uint64_t seen = 0;
    if (!ReadVersion(&in, &*state.tombstone, format) || !ReadVarint(&in, &seen)) fail();
    for (uint64_t i = 0; i < seen; ++i) {
      std::string name;
      Base base;
      if (!ReadString(&in, &name) || !ReadBase(&in, &base, format)) fail();
      state.tomb_seen.emplace_hint(state.tomb_seen.end(), std::move(name), std::move(base));
    }
  }
  uint64_t count = 0;
  if (!ReadVarint(&in, &count)) fail();
  Version common;
  bool shares = format >= 5;
  if (shares && count > 0 && !ReadVersion(&in, &common, format)) fail();
  for (uint64_t i = 0; i < count; ++i) {
    std::string name;
    FieldState field;
    if (!ReadString(&in, &name)) fail();
    if (!shares) {
      if (!ReadVersion(&in, &field.version, format) || !ReadValue(&in, &field.value)) fail();
    } else {
      if (in.empty()) fail();
      char tag = in.front();
      in.remove_prefix(1);
      if ((tag & kOwnVersion) == 0) {
        field.version = common;
      } else if (!ReadVersion(&in, &field.version, format)) {
        fail();
      }
      if (!ReadPayload(&in, static_cast<char>(tag & ~kOwnVersion), &field.value)) fail();
    }
    state.fields.emplace_hint(state.fields.end(), std::move(name), std::move(field));
  }
  if (!in.empty()) fail();
  return state;
}

void DecodeFieldViews(std::string_view in, std::vector<FieldView>* out) {
  out->clear();
  auto fail = [] { throw Error(ErrorCode::kCorruption, "malformed record state in store"); };
  auto skip_version = [&](std::string_view* bytes) {
    uint64_t stamp = 0;
    std::string_view origin;
    return ReadVarint(bytes, &stamp) && ReadStringView(bytes, &origin) &&
           ReadVarint(bytes, &stamp) && ReadStringView(bytes, &origin);
  };
  if (in.empty()) fail();
  bool has_tomb = in.front() == 1;
  in.remove_prefix(1);
  if (has_tomb) {
    uint64_t seen = 0;
    if (!skip_version(&in) || !ReadVarint(&in, &seen)) fail();
    for (uint64_t i = 0; i < seen; ++i) {
      std::string_view name, origin;
      uint64_t stamp = 0;
      if (!ReadStringView(&in, &name) || !ReadVarint(&in, &stamp) ||
          !ReadStringView(&in, &origin)) {
        fail();
      }
    }
  }
  uint64_t count = 0;
  if (!ReadVarint(&in, &count)) fail();
  if (count > 0 && !skip_version(&in)) fail();  // the common version
  for (uint64_t i = 0; i < count; ++i) {
    FieldView field;
    if (!ReadStringView(&in, &field.name) || in.empty()) fail();
    field.tag = in.front();
    in.remove_prefix(1);
    if ((field.tag & kOwnVersion) != 0) {
      field.tag = static_cast<char>(field.tag & ~kOwnVersion);
      if (!skip_version(&in)) fail();
    }
    if (field.tag == 3) {
      uint64_t zigzag = 0;
      if (!ReadVarint(&in, &zigzag)) fail();
      field.number = static_cast<int64_t>((zigzag >> 1) ^ (~(zigzag & 1) + 1));
    } else if (field.tag == 4) {
      if (in.size() < 8) fail();
      in.remove_prefix(8);
    } else if (field.tag == 5) {
      if (!ReadStringView(&in, &field.text)) fail();
    } else if (field.tag < 0 || field.tag > 2) {
      fail();
    }
    out->push_back(field);
  }
  if (!in.empty()) fail();
}

}  // namespace osrc::storage
