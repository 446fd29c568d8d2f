#include "replica/records.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <istream>
#include <iterator>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>

#include "config/defaults.h"
#include "config/record_csv.h"
#include "config/record_json.h"
#include "storage/local_writer.h"

namespace osrc::replica {
namespace {

// Referenced records found live, remembered for the transaction: an import checks the same few
// countries, service types and participants on many lines. Only live answers are remembered:
// nothing in a put or import transaction deletes a record, so one live stays live until the
// commit, and a record an earlier line wrote is found in the transaction. Delete uses no lookup.
// REQUIRES: `known` outlives the lookup.
config::RefLookup MakeRefLookup(storage::Store& store, const storage::Txn& txn,
                                std::set<std::string, std::less<>>& known) {
  return [&store, &txn, &known](std::string_view collection, std::string_view id) {
    std::string key = storage::RecordKey(collection, id);
    if (known.count(key) > 0) return config::RefState::kLive;
    auto state = store.GetRecord(txn, collection, id);
    if (!state) return config::RefState::kNone;
    if (!state->live()) return config::RefState::kDeleted;
    known.insert(std::move(key));
    return config::RefState::kLive;
  };
}

// The checks of a local write: references in this transaction, bounds on the writer's clock as
// its stamps see it (corrected by the offset to the hub clock).
config::WriteChecks LocalChecks(const config::RefLookup& refs, storage::LocalWriter& local) {
  return {.refs = &refs, .now_ms = static_cast<int64_t>(local.hlc().PhysicalMillis())};
}

std::string Counts(const std::map<std::string, size_t>& counts) {
  std::string out;
  for (const auto& [collection, count] : counts) {
    out += (out.empty() ? "" : ", ") + std::to_string(count) + " " + collection;
  }
  return out;
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

// Writes the buffer out once it holds a MiB, and counts the records written.
void Flush(std::ostream& out, std::string* buffer, Progress* progress, size_t written) {
  if (buffer->size() > (1 << 20)) {
    out << *buffer;
    buffer->clear();
  }
  if (progress != nullptr) progress->Update(written);
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
  if (writer.store.IsErased(txn, collection, id)) {
    return {ErrorCode::kBadInput,
            "erased: no value is kept for it any more (a new record takes a new id)",
            protocol::RecordName(collection, id)};
  }
  std::set<std::string, std::less<>> known_refs;
  config::RefLookup refs = MakeRefLookup(writer.store, txn, known_refs);
  storage::LocalWriter local(writer.store, txn, writer.clock, writer.origin);
  std::vector<protocol::Field> fields;
  OSRC_RETURN_IF_ERROR(config::ParseFields(*spec, id, json, LocalChecks(refs, local), &fields));
  OSRC_RETURN_IF_ERROR(WriteChecked(writer, txn, local, *spec, id, std::move(fields), changed));
  local.Finish();
  txn.Commit();
  return {};
}

std::vector<RecordRef> LiveReferrers(const Writer& writer, const storage::Txn& txn,
                                     std::string_view collection, std::string_view id) {
  std::vector<RecordRef> out;
  std::string prefix = std::string(config::SiteOfId(id)) + "-";
  for (const config::Referrer& referrer : writer.schema.ReferrersOf(collection)) {
    writer.store.ForEachRecord(
        txn, referrer.collection, prefix,
        [&](std::string_view c, std::string_view referring_id, const storage::RecordState& s) {
          auto field = s.fields.find(referrer.field);
          if (field == s.fields.end()) return;
          const auto* value = std::get_if<std::string>(&field->second.value);
          if (value != nullptr && *value == id)
            out.push_back({std::string(c), std::string(referring_id)});
        });
  }
  return out;
}

Status DeleteRecord(Writer& writer, std::string_view collection, std::string_view id, bool cascade,
                    DeleteResult* result) {
  std::string where = protocol::RecordName(collection, id);
  const config::CollectionSpec* spec = nullptr;
  OSRC_RETURN_IF_ERROR(writer.schema.CheckCollection(collection, writer.site(), &spec));
  OSRC_RETURN_IF_ERROR(config::Schema::CheckId(*spec, id, writer.site()));
  storage::WriteTxn txn(writer.store.env());
  auto state = writer.store.GetRecord(txn, collection, id);
  if (!state || !state->live()) return {ErrorCode::kNotFound, "not found", where};
  // The records that reference it, and with --cascade theirs in turn, each once.
  std::vector<RecordRef> doomed;
  std::set<std::string> seen = {storage::RecordKey(collection, id)};
  std::vector<RecordRef> pending = {{std::string(collection), std::string(id)}};
  while (!pending.empty()) {
    RecordRef record = std::move(pending.back());
    pending.pop_back();
    for (RecordRef& referrer : LiveReferrers(writer, txn, record.collection, record.id)) {
      if (!seen.insert(storage::RecordKey(referrer.collection, referrer.id)).second) continue;
      ++result->cascaded[referrer.collection];
      if (cascade) pending.push_back(referrer);
      doomed.push_back(std::move(referrer));
    }
  }
  if (!doomed.empty() && !cascade) {
    std::map<std::string, size_t> counts = std::move(result->cascaded);
    result->cascaded.clear();
    return {ErrorCode::kBadInput,
            "referenced by " + Counts(counts) +
                "; delete those first, or delete with --cascade to delete them too",
            where};
  }
  storage::LocalWriter local(writer.store, txn, writer.clock, writer.origin);
  // Referring records first: no point of the log holds a live record naming a deleted one.
  doomed.insert(doomed.begin(), {std::string(collection), std::string(id)});
  for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) {
    auto change = local.Delete(it->collection, it->id);
    if (change && writer.on_change) writer.on_change(txn, *change);
  }
  local.Finish();
  txn.Commit();
  return {};
}

std::string DeleteSummary(std::string_view collection, std::string_view id,
                          const DeleteResult& result) {
  std::string out = "deleted " + protocol::RecordName(collection, id);
  size_t total = 0;
  for (const auto& [name, count] : result.cascaded) total += count;
  if (total == 0) return out;
  return out + " and " + std::to_string(total) + " record" + (total == 1 ? "" : "s") +
         " that referenced it: " + Counts(result.cascaded);
}

Status ImportErrors::Summary(std::string_view file) const {
  std::string what = std::to_string(bad_lines) + (bad_lines == 1 ? " bad line" : " bad lines");
  if (!file.empty()) what += " in " + std::string(file);
  return {ErrorCode::kBadInput, what + "; nothing imported"};
}

void ImportErrors::Add(ImportError error) {
  if (shown.size() < kMaxImportErrors) {
    shown.push_back(std::move(error));
  } else {
    ++more;
  }
}

Status ImportRecords(Writer& writer, std::string_view text, const ImportOptions& options,
                     ImportStats* stats, ImportErrors* errors) {
  *stats = {};
  *errors = {};
  std::vector<ImportError> file_errors;
  std::unique_ptr<RecordSource> source;
  OpenRecordSource(
      writer.schema, text,
      {.format = options.format, .collection = options.collection, .site = writer.site()}, &source,
      &file_errors);
  // Errors found on opening (invalid UTF-8, the CSV header) are lines the source skips; they
  // join the others in line order, each line counted once.
  std::stable_sort(file_errors.begin(), file_errors.end(),
                   [](const ImportError& a, const ImportError& b) { return a.line < b.line; });
  std::set<size_t> file_lines;
  for (const ImportError& error : file_errors) file_lines.insert(error.line);
  errors->bad_lines = file_lines.size();
  auto next_file_error = file_errors.begin();
  auto add_file_errors_before = [&](size_t line) {
    for (; next_file_error != file_errors.end() && next_file_error->line < line;
         ++next_file_error) {
      errors->Add(std::move(*next_file_error));
    }
  };
  if (source == nullptr) {
    add_file_errors_before(SIZE_MAX);
    return errors->Summary("");
  }
  if (options.progress != nullptr) options.progress->SetTotal(source->total());
  storage::WriteTxn txn(writer.store.env());
  std::set<std::string, std::less<>> known_refs;
  config::RefLookup refs = MakeRefLookup(writer.store, txn, known_refs);
  storage::LocalWriter local(writer.store, txn, writer.clock, writer.origin);
  SourceItem item;
  size_t read = 0;
  while (source->Next(LocalChecks(refs, local), &item)) {
    if (options.progress != nullptr) options.progress->Update(++read);
    if (item.errors.empty()) {
      const config::CollectionSpec* spec = writer.schema.Find(item.record.collection);
      bool changed = false;
      Status status = WriteChecked(writer, txn, local, *spec, item.record.id,
                                   std::move(item.record.fields), &changed);
      if (status.ok()) {
        ++stats->lines;
        if (changed) ++stats->changed;
        continue;
      }
      ImportError error{
          item.line, 0, "",
          status.WithContext(protocol::RecordName(item.record.collection, item.record.id))};
      source->PlaceError(&error);
      item.errors.push_back(std::move(error));
    }
    ++errors->bad_lines;
    add_file_errors_before(item.line);
    for (ImportError& error : item.errors) errors->Add(std::move(error));
  }
  add_file_errors_before(SIZE_MAX);
  if (errors->empty() && stats->lines == 0 && !options.allow_empty) {
    ++errors->bad_lines;
    errors->Add({0, 0, "",
                 Status(ErrorCode::kBadInput,
                        "no records (give --allow-empty to accept a file without records)")});
  }
  if (!errors->empty()) {
    stats->lines = stats->changed = 0;
    return errors->Summary("");
  }
  local.Finish();
  stats->head = local.head();
  txn.Commit();
  return {};
}

Status ImportJsonLines(Writer& writer, std::istream& in, std::string_view only_collection,
                       ImportStats* stats) {
  std::string text(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) return {ErrorCode::kIo, "read failed"};
  ImportErrors errors;
  ImportOptions options{.collection = std::string(only_collection), .allow_empty = true};
  Status status = ImportRecords(writer, text, options, stats, &errors);
  return errors.shown.empty() ? status : errors.shown.front().ToStatus();
}

Status ImportFile(Writer& writer, const std::string& file, const ImportOptions& options,
                  ImportStats* stats, ImportErrors* errors) {
  std::string text;
  if (file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
    if (std::cin.bad()) return {ErrorCode::kIo, "read failed", "standard input"};
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) return {ErrorCode::kNotFound, "cannot open file", file};
    text.assign(std::istreambuf_iterator<char>(in), {});
    if (in.bad()) return {ErrorCode::kIo, "read failed", file};
  }
  std::string name = file == "-" ? "standard input" : file;
  // A store that fills up grows, and the import runs again from the start.
  Status status = storage::WithGrowth(
      writer.store.env(), [&] { return ImportRecords(writer, text, options, stats, errors); });
  return status.ok() ? status : errors->Summary(name);
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
                     std::ostream& out, Progress* progress,
                     const config::Schema* leave_out_personal_of) {
  storage::ReadTxn txn(store.env());
  std::string buffer;
  size_t written = 0;
  std::vector<config::FieldValue> fields;
  store.ForEachRecord(txn, collection,
                      [&](std::string_view c, std::string_view id, const storage::RecordState& s) {
                        if (id.substr(0, id_prefix.size()) != id_prefix) return;
                        if (leave_out_personal_of == nullptr) {
                          buffer += ExportLine(c, id, s);
                        } else {
                          const config::CollectionSpec* spec = leave_out_personal_of->Find(c);
                          fields.clear();
                          for (const auto& [name, field] : s.fields) {
                            const config::FieldSpec* f = spec ? spec->Find(name) : nullptr;
                            if (f == nullptr || !f->pii) fields.push_back({name, &field.value});
                          }
                          buffer += config::RecordLine(c, id, fields);
                        }
                        buffer += '\n';
                        Flush(out, &buffer, progress, ++written);
                      });
  out << buffer;
}

void ExportCsv(storage::Store& store, const config::CollectionSpec& spec,
               std::string_view id_prefix, std::ostream& out, Progress* progress) {
  storage::ReadTxn txn(store.env());
  std::string buffer = config::CsvHeaderLine(spec);
  size_t written = 0;
  std::vector<config::FieldValue> fields;
  store.ForEachRecord(txn, spec.name,
                      [&](std::string_view, std::string_view id, const storage::RecordState& s) {
                        if (id.substr(0, id_prefix.size()) != id_prefix) return;
                        fields.clear();
                        for (const auto& [name, field] : s.fields) {
                          fields.push_back({name, &field.value});
                        }
                        buffer += config::CsvRecordLine(spec, id, fields);
                        Flush(out, &buffer, progress, ++written);
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
          config::ParseRecordLine(schema, line, "", config::WriteChecks{}, &record)
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
  store.ForEachCount(txn, [&](std::string_view c, std::string_view, uint64_t count) {
    counts[std::string(c)] += count;
  });
  return {counts.begin(), counts.end()};
}

}  // namespace osrc::replica
