#include "protocol/change.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "protocol/capnp_reader.h"
#include "protocol/sync.capnp.h"

namespace osrc::protocol {
namespace {

// Whole strings, NULs included (a std::string would be cut at its first NUL).
capnp::Text::Reader TextOf(const std::string& s) { return capnp::Text::Reader(s.data(), s.size()); }

void SetValue(wire::Field::Builder out, const Value& value) {
  switch (value.index()) {
    case 0:
      out.setNull();
      break;
    case 1:
      out.setBool(std::get<bool>(value));
      break;
    case 2:
      out.setInt(std::get<int64_t>(value));
      break;
    case 3:
      out.setFloat(std::get<double>(value));
      break;
    case 4:
      out.setText(TextOf(std::get<std::string>(value)));
      break;
  }
}

Status ReadValue(wire::Field::Reader in, const DecodeLimits& limits, Value* out) {
  switch (in.which()) {
    case wire::Field::NULL_:
      *out = std::monostate{};
      return {};
    case wire::Field::BOOL:
      *out = in.getBool();
      return {};
    case wire::Field::INT:
      *out = in.getInt();
      return {};
    case wire::Field::FLOAT: {
      double number = in.getFloat();
      if (!std::isfinite(number)) return {ErrorCode::kBadMessage, "float is not finite"};
      *out = number;
      return {};
    }
    case wire::Field::TEXT: {
      auto text = in.getText();
      if (text.size() > limits.max_text) return {ErrorCode::kBadMessage, "text too long"};
      if (auto* reused = std::get_if<std::string>(out)) {
        reused->assign(text.cStr(), text.size());
      } else {
        *out = std::string(text.cStr(), text.size());
      }
      return {};
    }
  }
  return {ErrorCode::kBadMessage, "unknown value kind"};
}

Status DecodeReader(wire::Change::Reader in, const DecodeLimits& limits, Change* out) {
  auto text = [&](capnp::Text::Reader t, std::string* to) {
    if (t.size() > limits.max_text) return false;
    to->assign(t.cStr(), t.size());
    return true;
  };
  if (!text(in.getCollection(), &out->collection) || !text(in.getId(), &out->id) ||
      !text(in.getOrigin(), &out->origin) || !text(in.getBaseOrigin(), &out->base_origin)) {
    return {ErrorCode::kBadMessage, "change text too long"};
  }
  out->seq = in.getSeq();
  out->stamp = in.getStamp();
  out->base = in.getBase();
  out->deleted = in.getDeleted();
  out->erased = in.getErased();
  if (out->erased && (!out->deleted || in.getFields().size() != 0)) {
    return {ErrorCode::kBadMessage, "an erasure is a delete without fields"};
  }
  auto fields = in.getFields();
  if (fields.size() > limits.max_fields) return {ErrorCode::kBadMessage, "too many fields"};
  out->fields.resize(fields.size());  // a reused change keeps its strings' room
  for (size_t i = 0; i < fields.size(); ++i) {
    auto field = fields[i];
    Field& f = out->fields[i];
    if (!text(field.getName(), &f.name)) return {ErrorCode::kBadMessage, "field name too long"};
    f.base = field.getBase();
    if (!text(field.getBaseOrigin(), &f.base_origin)) {
      return {ErrorCode::kBadMessage, "field base origin too long"};
    }
    if (Status value = ReadValue(field, limits, &f.value); !value.ok()) {
      return value.WithContext("field \"" + f.name + "\"");  // built only when it fails
    }
  }
  for (size_t i = 1; i < out->fields.size(); ++i) {
    if (!(out->fields[i - 1].name < out->fields[i].name)) {
      return {ErrorCode::kBadMessage, "fields not sorted or not unique"};
    }
  }
  return {};
}

// A change's first segment, reused: the builder zeroes what it used when it is done.
kj::ArrayPtr<capnp::word> ScratchSegment() {
  constexpr size_t kWords = 1024;
  thread_local std::unique_ptr<capnp::word[]> words(new capnp::word[kWords]());
  return {words.get(), kWords};
}

}  // namespace

std::string EncodeChange(const Change& change) {
  capnp::MallocMessageBuilder message(ScratchSegment());
  auto out = message.initRoot<wire::Change>();
  out.setCollection(TextOf(change.collection));
  out.setId(TextOf(change.id));
  out.setOrigin(TextOf(change.origin));
  out.setSeq(change.seq);
  out.setStamp(change.stamp);
  out.setBase(change.base);
  // Unset when empty, so a change without base origins keeps its merge version 1 bytes.
  if (!change.base_origin.empty()) out.setBaseOrigin(TextOf(change.base_origin));
  out.setDeleted(change.deleted);
  if (change.erased) out.setErased(true);
  auto fields = out.initFields(change.fields.size());
  for (size_t i = 0; i < change.fields.size(); ++i) {
    fields[i].setName(TextOf(change.fields[i].name));
    fields[i].setBase(change.fields[i].base);
    if (!change.fields[i].base_origin.empty()) {
      fields[i].setBaseOrigin(TextOf(change.fields[i].base_origin));
    }
    SetValue(fields[i], change.fields[i].value);
  }
  // Packed: a change is mostly small integers and short texts, about half the flat size. Packing
  // takes at most 10 bytes a word (a tag, the word, a run count).
  thread_local std::vector<kj::byte> buffer;
  buffer.resize(std::max(buffer.size(), capnp::computeSerializedSizeInWords(message) * 10));
  kj::ArrayOutputStream output(kj::arrayPtr(buffer.data(), buffer.size()));
  capnp::writePackedMessage(output, message);
  auto bytes = output.getArray();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

Status DecodeChange(std::span<const uint8_t> bytes, const DecodeLimits& limits, Change* out) {
  if (bytes.size() > limits.max_bytes) return {ErrorCode::kBadMessage, "change too large"};
  return ReadUntrustedPacked(bytes, limits.traversal_words, limits.nesting, "change",
                             [&](capnp::MessageReader& reader) {
                               return DecodeReader(reader.getRoot<wire::Change>(), limits, out);
                             });
}

std::string RecordName(std::string_view collection, std::string_view id) {
  std::string name(collection);
  name += '/';
  name += id;
  return name;
}

}  // namespace osrc::protocol
