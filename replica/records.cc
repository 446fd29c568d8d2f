#include "replica/records.h"

#include <fstream>
#include <iostream>
#include <istream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include "config/defaults.h"
#include "config/record_json.h"
#include "storage/local_writer.h"

namespace osrc::replica {
namespace {

// Reference records found live, remembered for the transaction: an import checks the same few
// countries and service types on every line. REQUIRES: `known` outlives the lookup.
config::RefLookup MakeRefLookup(storage::Store& store, const storage::Txn& txn,
                                std::set<std::string, std::less<>>& known) {
  return [&store, &txn, &known](std::string_view collection, std::string_view id) {
    std::string key = storage::RecordKey(collection, id);
    if (known.count(key) > 0) return true;
    auto state = store.GetRecord(txn, collection, id);
    bool live = state.has_value() && state->live();
    if (live) known.insert(std::move(key));
    return live;
  };
}

// Checks required fields of the record as it will be, then writes it.
Status WriteChecked(Writer& writer, storage::WriteTxn& txn, storage::LocalWriter& local,
                    const config::CollectionSpec& spec, std::string_view id,
                    std::vector<protocol::Field> fields, bool* changed) {
  storage::RecordState current =
      writer.store.GetRecord(txn, spec.name, id).value_or(storage::RecordState{});
  auto currently_set = [&](std::string_view name) {
    auto it = current.fields.find(name);
    return it != current.fields.end() && !protocol::IsNull(it->second.value);
  };
  OSRC_RETURN_IF_ERROR(config::Schema::CheckRequired(spec, fields, currently_set));
  auto change = local.Put(spec.name, id, std::move(fields), &current);
  *changed = change.has_value();
  if (change && writer.on_change) writer.on_change(txn, *change);
  return {};
}

}  // namespace

Status PutJsonUnchecked(Writer& writer, std::string_view collection, std::string_view id,
                        std::string_view json, bool* changed);

Status PutJson(Writer& writer, std::string_view collection, std::string_view id,
               std::string_view json, bool* changed) {
  return PutJsonUnchecked(writer, collection, id, json, changed)
      .WithContext(protocol::RecordName(collection, id));
}

Status PutJsonUnchecked(Writer& writer, std::string_view collection, std::string_view id,
                        std::string_view json, bool* changed) {
  const config::CollectionSpec* spec = nullptr;
  OSRC_RETURN_IF_ERROR(writer.schema.CheckCollection(collection, writer.site(), &spec));
  OSRC_RETURN_IF_ERROR(config::Schema::CheckId(*spec, id, writer.site()));
  storage::WriteTxn txn(writer.store.env());
  std::set<std::string, std::less<>> known_refs;
  config::RefLookup refs = MakeRefLookup(writer.store, txn, known_refs);
  std::vector<protocol::Field> fields;
  OSRC_RETURN_IF_ERROR(config::ParseFields(*spec, json, &refs, &fields));
  storage::LocalWriter local(writer.store, txn, writer.clock, writer.origin);
  OSRC_RETURN_IF_ERROR(WriteChecked(writer, txn, local, *spec, id, std::move(fields), changed));
  local.Finish();
  txn.Commit();
  return {};
}

Status DeleteRecord(Writer& writer, std::string_view collection, std::string_view id,
                    bool* changed) {
  const config::CollectionSpec* spec = nullptr;
  OSRC_RETURN_IF_ERROR(writer.schema.CheckCollection(collection, writer.site(), &spec));
  OSRC_RETURN_IF_ERROR(config::Schema::CheckId(*spec, id, writer.site()));
  storage::WriteTxn txn(writer.store.env());
  storage::LocalWriter local(writer.store, txn, writer.clock, writer.origin);
  auto change = local.Delete(collection, id);
  *changed = change.has_value();
  if (!change) return {ErrorCode::kNotFound, "not found", protocol::RecordName(collection, id)};
  if (writer.on_change) writer.on_change(txn, *change);
  local.Finish();
  txn.Commit();
  return {};
}

Status ImportJsonLines(Writer& writer, std::istream& in, std::string_view only_collection,
                       ImportStats* stats) {
  storage::WriteTxn txn(writer.store.env());
  std::set<std::string, std::less<>> known_refs;
  config::RefLookup refs = MakeRefLookup(writer.store, txn, known_refs);
  storage::LocalWriter local(writer.store, txn, writer.clock, writer.origin);
  std::string line;
  config::JsonRecord record;
  size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    auto where = [&] { return "line " + std::to_string(line_number); };
    Status status = config::ParseRecordLine(writer.schema, line, writer.site(), &refs, &record);
    if (!status.ok()) return status.WithContext(where());
    if (!only_collection.empty() && record.collection != only_collection) {
      return Status(ErrorCode::kBadInput,
                    "collection \"" + record.collection + "\" is not \"" +
                        std::string(only_collection) + "\"",
                    where());
    }
    const config::CollectionSpec* spec = writer.schema.Find(record.collection);
    bool changed = false;
    status = WriteChecked(writer, txn, local, *spec, record.id, std::move(record.fields), &changed);
    if (!status.ok()) {
      return status.WithContext(where() + ": " +
                                protocol::RecordName(record.collection, record.id));
    }
    ++stats->lines;
    if (changed) ++stats->changed;
  }
  if (in.bad()) return {ErrorCode::kIo, "read failed", "line " + std::to_string(line_number + 1)};
  local.Finish();
  stats->head = local.head();
  txn.Commit();
  return {};
}

Status ImportJsonLinesFile(Writer& writer, const std::string& file,
                           std::string_view only_collection, ImportStats* stats) {
  // Standard input is read whole first: a retry after growing the store reads it again.
  std::ifstream file_stream;
  std::istringstream stdin_stream;
  if (file == "-") {
    stdin_stream.str(std::string(std::istreambuf_iterator<char>(std::cin), {}));
  } else {
    file_stream.open(file);
    if (!file_stream) return {ErrorCode::kNotFound, "cannot open file", file};
  }
  std::istream& in = file == "-" ? static_cast<std::istream&>(stdin_stream) : file_stream;
  return storage::WithGrowth(writer.store.env(), [&] {
    in.clear();
    in.seekg(0);
    *stats = {};
    return ImportJsonLines(writer, in, only_collection, stats).WithContext(file);
  });
}

std::string ExportLine(std::string_view collection, std::string_view id,
                       const storage::RecordState& state) {
  std::vector<config::FieldValue> fields;
  fields.reserve(state.fields.size());
  for (const auto& [name, field] : state.fields) fields.push_back({name, &field.value});
  return config::RecordLine(collection, id, fields);
}

Status GetJson(storage::Store& store, std::string_view collection, std::string_view id,
               std::string* out) {
  storage::ReadTxn txn(store.env());
  auto state = store.GetRecord(txn, collection, id);
  if (!state || !state->live()) {
    return {ErrorCode::kNotFound, "not found", protocol::RecordName(collection, id)};
  }
  *out = ExportLine(collection, id, *state);
  return {};
}

void ExportJsonLines(storage::Store& store, std::string_view collection, std::string_view id_prefix,
                     std::ostream& out) {
  storage::ReadTxn txn(store.env());
  std::string buffer;
  store.ForEachRecord(txn, collection,
                      [&](std::string_view c, std::string_view id, const storage::RecordState& s) {
                        if (id.substr(0, id_prefix.size()) != id_prefix) return;
                        buffer += ExportLine(c, id, s);
                        buffer += '\n';
                        if (buffer.size() > (1 << 20)) {
                          out << buffer;
                          buffer.clear();
                        }
                      });
  out << buffer;
}

Status LoadDefaultReferenceData(storage::Store& store, const config::Schema& schema) {
  storage::WriteTxn txn(store.env());
  for (std::string_view file : config::kReferenceFiles) {
    std::istringstream in{std::string(config::DefaultFile(file))};
    std::string line;
    size_t line_number = 0;
    config::JsonRecord record;
    while (std::getline(in, line)) {
      ++line_number;
      if (line.empty()) continue;
      OSRC_RETURN_IF_ERROR(
          config::ParseRecordLine(schema, line, "", nullptr, &record)
              .WithContext(std::string(file) + ": line " + std::to_string(line_number)));
      protocol::Change change;
      change.collection = std::move(record.collection);
      change.id = std::move(record.id);
      change.origin = kDefaultsOrigin;
      change.stamp = 1;
      change.fields = std::move(record.fields);
      store.Apply(txn, change);
    }
  }
  txn.Commit();
  return {};
}

std::vector<std::pair<std::string, size_t>> CountRecords(storage::Store& store,
                                                         const storage::Txn& txn) {
  std::map<std::string, size_t> counts;
  store.ForEachRecord(txn, "",
                      [&](std::string_view c, std::string_view, const storage::RecordState&) {
                        ++counts[std::string(c)];
                      });
  return {counts.begin(), counts.end()};
}

}  // namespace osrc::replica
