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

void AppendValue(std::string* out, const Value& value) {
  switch (value.index()) {
    case 0:
      out->push_back(0);
      break;
    case 1:
      out->push_back(std::get<bool>(value) ? 2 : 1);
      break;
    case 2: {
      out->push_back(3);
      int64_t v = std::get<int64_t>(value);
      AppendVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
      break;
    }
    case 3: {
      out->push_back(4);
      char bytes[8];
      double v = std::get<double>(value);
      std::memcpy(bytes, &v, 8);
      out->append(bytes, 8);
      break;
    }
    case 4:
      out->push_back(5);
      AppendString(out, std::get<std::string>(value));
      break;
  }
}

bool ReadValue(std::string_view* in, Value* value) {
  if (in->empty()) return false;
  char tag = in->front();
  in->remove_prefix(1);
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
  AppendVarint(&out, state.fields.size());
  for (const auto& [name, field] : state.fields) {
    AppendString(&out, name);
    AppendVersion(&out, field.version);
    AppendValue(&out, field.value);
  }
  return out;
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
  for (uint64_t i = 0; i < count; ++i) {
    std::string name;
    FieldState field;
    if (!ReadString(&in, &name) || !ReadVersion(&in, &field.version, format) ||
        !ReadValue(&in, &field.value)) {
      fail();
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
  for (uint64_t i = 0; i < count; ++i) {
    FieldView field;
    if (!ReadStringView(&in, &field.name) || !skip_version(&in) || in.empty()) fail();
    field.tag = in.front();
    in.remove_prefix(1);
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
