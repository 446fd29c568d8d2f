#include "config/record_json.h"

#include <nlohmann/json.hpp>

namespace osrc::config {
namespace {

using nlohmann::json;

Status ToValue(const FieldSpec& spec, const json& in, protocol::Value* out) {
  std::string where = "field \"" + spec.name + "\"";
  switch (in.type()) {
    case json::value_t::null:
      *out = std::monostate{};
      return {};
    case json::value_t::boolean:
      *out = in.get<bool>();
      return {};
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      if (spec.type == FieldType::kFloat) {
        *out = in.get<double>();
      } else if (in.is_number_unsigned() && in.get<uint64_t>() > INT64_MAX) {
        return {ErrorCode::kBadInput, "integer out of range", where};
      } else {
        *out = in.get<int64_t>();
      }
      return {};
    case json::value_t::number_float:
      *out = in.get<double>();
      return {};
    case json::value_t::string:
      *out = in.get<std::string>();
      return {};
    default:
      return {ErrorCode::kBadInput, "expected a value, not an object or array", where};
  }
}

Status FieldsFromJson(const CollectionSpec& spec, const json& object, const RefLookup* refs,
                      std::vector<protocol::Field>* out) {
  if (!object.is_object()) return {ErrorCode::kBadInput, "\"fields\" is not an object"};
  out->clear();
  out->reserve(object.size());
  for (const auto& [name, value] : object.items()) {  // nlohmann keeps keys sorted
    const FieldSpec* field_spec = spec.Find(name);
    if (field_spec == nullptr) {
      return {ErrorCode::kBadInput, "unknown field of " + spec.name, "field \"" + name + "\""};
    }
    protocol::Field& field = out->emplace_back();
    field.name = name;
    OSRC_RETURN_IF_ERROR(ToValue(*field_spec, value, &field.value));
    OSRC_RETURN_IF_ERROR(Schema::CheckField(spec, field, refs));
  }
  return {};
}

void AppendEscaped(std::string* out, std::string_view text) {
  out->append(json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace

Status ParseFields(const CollectionSpec& spec, std::string_view text, const RefLookup* refs,
                   std::vector<protocol::Field>* out) {
  json object = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return {ErrorCode::kBadInput, "malformed JSON"};
  return FieldsFromJson(spec, object, refs, out);
}

Status ParseRecordLine(const Schema& schema, std::string_view line, std::string_view site,
                       const RefLookup* refs, JsonRecord* out) {
  json object = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return {ErrorCode::kBadInput, "malformed JSON"};
  if (!object.is_object()) return {ErrorCode::kBadInput, "not a JSON object"};
  for (const auto& [key, value] : object.items()) {
    if (key != "collection" && key != "id" && key != "fields") {
      return {ErrorCode::kBadInput, "unknown key \"" + key + "\""};
    }
  }
  auto collection = object.find("collection");
  auto id = object.find("id");
  auto fields = object.find("fields");
  if (collection == object.end() || !collection->is_string()) {
    return {ErrorCode::kBadInput, "\"collection\" missing or not text"};
  }
  if (id == object.end() || !id->is_string()) {
    return {ErrorCode::kBadInput, "\"id\" missing or not text"};
  }
  if (fields == object.end()) return {ErrorCode::kBadInput, "\"fields\" missing"};
  out->collection = collection->get<std::string>();
  out->id = id->get<std::string>();
  const CollectionSpec* spec = nullptr;
  OSRC_RETURN_IF_ERROR(schema.CheckCollection(out->collection, site, &spec));
  OSRC_RETURN_IF_ERROR(schema.CheckId(*spec, out->id, site));
  return FieldsFromJson(*spec, *fields, refs, &out->fields)
      .WithContext(protocol::RecordName(out->collection, out->id));
}

std::string ValueJson(const protocol::Value& value) {
  std::string out;
  switch (value.index()) {
    case 0:
      return "null";
    case 1:
      return std::get<bool>(value) ? "true" : "false";
    case 2:
      return std::to_string(std::get<int64_t>(value));
    case 3:
      return json(std::get<double>(value)).dump();
    case 4:
      AppendEscaped(&out, std::get<std::string>(value));
      return out;
  }
  return "null";
}

std::string RecordLine(std::string_view collection, std::string_view id,
                       const std::vector<FieldValue>& fields) {
  std::string out = "{\"collection\":";
  AppendEscaped(&out, collection);
  out += ",\"id\":";
  AppendEscaped(&out, id);
  out += ",\"fields\":{";
  bool first = true;
  for (const FieldValue& field : fields) {
    if (protocol::IsNull(*field.value)) continue;
    if (!first) out += ',';
    first = false;
    AppendEscaped(&out, field.name);
    out += ':';
    out += ValueJson(*field.value);
  }
  out += "}}";
  return out;
}

}  // namespace osrc::config
