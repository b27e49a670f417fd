#include "benchmarks/bench_dataset.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmarks/bench_machine.h"
#include "rocksdb/sst_file_writer.h"
#include "src/keys.h"
#include "tools/sample/sample_data.h"

namespace rocksmigrate_bench {

namespace fs = std::filesystem;
using rocksmigrate_sample::ExpectedTaskV2;
using rocksmigrate_sample::IsTask;
using rocksmigrate_sample::RecordKey;
using rocksmigrate_sample::RecordValue;

namespace {

// The sample: `n` seeded record indexes plus the first and last of each
// prefix.
std::vector<uint64_t> SampleIndexes(const Config& cfg) {
  std::set<uint64_t> picked;
  const uint64_t n = cfg.records;
  for (uint64_t k = 0; k < cfg.sample && n > 0; ++k) {
    picked.insert(rocksmigrate_sample::Mix(cfg.seed ^ 0x5eed5eedULL ^
                                         rocksmigrate_sample::Mix(k)) % n);
  }
  if (n > 0) picked.insert(0);
  if (n > 9) picked.insert(9);
  if (n > 0) picked.insert(IsTask(n - 1) ? n - 1 : n - 2);
  for (uint64_t i = n; i-- > 0;) {
    if (!IsTask(i)) {
      picked.insert(i);
      break;
    }
  }
  return std::vector<uint64_t>(picked.begin(), picked.end());
}

// Shortens a value for an error message.
std::string Clip(const std::string& s) {
  return s.size() <= 300 ? s : s.substr(0, 300) + "...";
}

}  // namespace

rocksdb::Options DbOptions() {
  // RocksDB's defaults, the same for every case, WAL on. Nothing here is
  // tuned for one case.
  rocksdb::Options options;
  options.create_if_missing = false;
  return options;
}

absl::Status Generate(const Config& cfg, const std::string& path,
                      DataStats* stats) {
  const double start = Now();
  rocksdb::Options options = DbOptions();
  options.create_if_missing = true;
  fs::create_directories(path + ".sst");
  std::vector<std::string> files;
  std::unique_ptr<rocksdb::SstFileWriter> writer;
  uint64_t in_file = 0;
  constexpr uint64_t kPerFile = 500000;  // About 110 MB of data a file.
  auto finish = [&]() -> absl::Status {
    if (writer == nullptr) return absl::OkStatus();
    rocksdb::Status s = writer->Finish();
    writer.reset();
    if (!s.ok()) return absl::InternalError("SstFileWriter::Finish: " + s.ToString());
    return absl::OkStatus();
  };
  auto put = [&](uint64_t index) -> absl::Status {
    if (writer == nullptr || in_file >= kPerFile) {
      absl::Status f = finish();
      if (!f.ok()) return f;
      writer = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(),
                                                        options);
      files.push_back(absl::StrFormat("%s.sst/%06d.sst", path, files.size()));
      rocksdb::Status s = writer->Open(files.back());
      if (!s.ok()) return absl::InternalError("SstFileWriter::Open: " + s.ToString());
      in_file = 0;
    }
    const std::string key = RecordKey(index);
    const std::string value = RecordValue(cfg.seed, index);
    rocksdb::Status s = writer->Put(key, value);
    if (!s.ok()) return absl::InternalError("SstFileWriter::Put: " + s.ToString());
    ++in_file;
    stats->value_bytes += value.size();
    if (IsTask(index)) {
      ++stats->tasks;
      stats->task_bytes += key.size() + value.size();
    } else {
      ++stats->notes;
    }
    return absl::OkStatus();
  };
  // "note:" sorts before "task:": notes first, then tasks, each in index order.
  for (uint64_t i = 9; i < cfg.records; i += 10) {
    absl::Status s = put(i);
    if (!s.ok()) return s;
  }
  for (uint64_t i = 0; i < cfg.records; ++i) {
    if (!IsTask(i)) continue;
    absl::Status s = put(i);
    if (!s.ok()) return s;
    if (i % 2000000 == 0 && i > 0) Say(absl::StrCat("  generated ", i, " records"));
  }
  absl::Status f = finish();
  if (!f.ok()) return f;
  stats->records = stats->tasks + stats->notes;
  stats->sst_files = files.size();

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) return absl::InternalError("creating the template: " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  s = db->IngestExternalFile(files, ingest);
  if (!s.ok()) return absl::InternalError("ingesting the template: " + s.ToString());
  s = db->Close();
  if (!s.ok()) return absl::InternalError("closing the template: " + s.ToString());
  db.reset();
  fs::remove_all(path + ".sst");
  for (const auto& entry : fs::directory_iterator(path)) {
    if (entry.is_regular_file()) stats->disk_bytes += entry.file_size();
  }
  stats->seconds = Now() - start;
  return absl::OkStatus();
}

absl::Status CloneDb(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", to, ": ", ec.message()));
  for (const auto& entry : fs::directory_iterator(from)) {
    const std::string name = entry.path().filename().string();
    if (name == "LOCK" || name.rfind("LOG", 0) == 0) continue;
    const fs::path target = fs::path(to) / name;
    if (entry.path().extension() == ".sst") {
      fs::create_hard_link(entry.path(), target, ec);
      if (!ec) continue;
      ec.clear();  // Another file system: copy instead.
    }
    fs::copy_file(entry.path(), target, ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("copying ", entry.path().string(), ": ", ec.message()));
    }
  }
  return absl::OkStatus();
}

std::string Original(uint64_t, const std::string& original) { return original; }

std::string Migrated(uint64_t index, const std::string& original) {
  return IsTask(index) ? ExpectedTaskV2(original) : original;
}

std::string CheckSample(const Config& cfg, rocksdb::DB* db,
                        const Expectation& expect,
                        const std::optional<std::string>& backup_id,
                        rocksdb::ColumnFamilyHandle* backup_cf,
                        const std::string& schema_version,
                        uint64_t* checked) {
  uint64_t bad = 0, n = 0;
  std::string first;
  auto fail = [&](const std::string& what) {
    if (bad++ == 0) first = what;
  };
  if (!schema_version.empty()) {
    std::string stored;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), rocksmigrate::kSchemaVersionKey, &stored);
    if (schema_version == "-") {
      if (!s.IsNotFound()) fail("_schema_version exists; expected none");
    } else if (!s.ok() || stored != schema_version) {
      fail(absl::StrCat("_schema_version is '", s.ok() ? stored : s.ToString(),
                        "', expected '", schema_version, "'"));
    }
  }
  for (uint64_t index : SampleIndexes(cfg)) {
    ++n;
    const std::string key = RecordKey(index);
    const std::string original = RecordValue(cfg.seed, index);
    const std::string want = expect(index, original);
    if (want.empty()) {
      fail(absl::StrCat("no expected bytes for ", key, " (generator shape?)"));
      continue;
    }
    std::string got;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), key, &got);
    if (!s.ok()) {
      fail(absl::StrCat(key, ": ", s.ToString()));
      continue;
    }
    if (got != want) {
      fail(absl::StrCat(key, " holds\n    ", Clip(got), "\n  expected\n    ",
                        Clip(want)));
      continue;
    }
    if (backup_id && IsTask(index)) {
      std::string backup;
      s = db->Get(rocksdb::ReadOptions(),
                  backup_cf != nullptr ? backup_cf : db->DefaultColumnFamily(),
                  rocksmigrate::BackupRecordKey(*backup_id, key), &backup);
      if (!s.ok() || backup != original) {
        fail(absl::StrCat("backup of ", key, " in ", *backup_id, ": ",
                          s.ok() ? Clip(backup) : s.ToString(),
                          "; expected the original bytes"));
      }
    }
  }
  if (checked != nullptr) *checked = n;
  if (bad == 0) return std::string();
  return absl::StrCat(bad, " of ", n, " sampled checks failed; first: ", first);
}

void Finish(CaseResult* r, const std::string& problem, uint64_t checked) {
  r->ran = true;
  r->ok = problem.empty();
  r->check = problem.empty() ? absl::StrCat("ok (", checked, " sampled)")
                             : "FAILED: " + problem;
}

}  // namespace rocksmigrate_bench
