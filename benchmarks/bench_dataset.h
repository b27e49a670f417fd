// rocksmigrate-bench's dataset and its checks: the RocksDB options every
// case opens with, the template database the generator writes once
// (tools/sample/sample_data.h supplies the records), the fresh copy each
// case runs on, and the sampled comparison of a case's database with bytes
// computed without the engine.
//
// Contract: the template is written once, closed, and never written again;
// CloneDb() relies on that to hard-link its SST files. CheckSample() reads
// the records Config::seed and Config::sample pick (the same ones for every
// case of a run) and returns "" or what differed; Finish() turns that into a
// CaseResult's verdict.
#ifndef ROCKSMIGRATE_BENCHMARKS_BENCH_DATASET_H_
#define ROCKSMIGRATE_BENCHMARKS_BENCH_DATASET_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "benchmarks/bench_config.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"

namespace rocksmigrate_bench {

// RocksDB's defaults, the same for every case, WAL on; create_if_missing off.
rocksdb::Options DbOptions();

// Writes records [0, cfg.records) in key order into SST files and ingests
// them into a new database at `path`: every record lands in the last level,
// as in a compacted database. (The cases then all start from the same files.)
absl::Status Generate(const Config& cfg, const std::string& path,
                      DataStats* stats);

// A fresh copy of the (closed, never again written) template: SST files are
// immutable, so they are hard-linked; everything else is copied.
absl::Status CloneDb(const std::string& from, const std::string& to);

// What record `index` must hold: its original bytes, or the migrated ones.
using Expectation = std::function<std::string(uint64_t index,
                                              const std::string& original)>;

// Every record as generated.
std::string Original(uint64_t index, const std::string& original);

// Task records at v2 (the Task v1 -> v2 output), notes as generated.
std::string Migrated(uint64_t index, const std::string& original);

// Compares each sampled record with `expect`, and, if `backup_id` is set,
// each sampled task's backup (in `backup_cf`) with its original bytes. With
// `schema_version`, also _schema_version ("-": it must not exist). Returns
// "" when all match, else what differed (first mismatch + count); `checked`
// gets the number of records compared.
std::string CheckSample(const Config& cfg, rocksdb::DB* db,
                        const Expectation& expect,
                        const std::optional<std::string>& backup_id = std::nullopt,
                        rocksdb::ColumnFamilyHandle* backup_cf = nullptr,
                        const std::string& schema_version = "",
                        uint64_t* checked = nullptr);

// Marks `r` as run; ok when `problem` is empty ("ok (N sampled)"), else
// "FAILED: <problem>".
void Finish(CaseResult* r, const std::string& problem, uint64_t checked);

}  // namespace rocksmigrate_bench

#endif  // ROCKSMIGRATE_BENCHMARKS_BENCH_DATASET_H_
