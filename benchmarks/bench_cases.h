// rocksmigrate-bench's cases: (a) the naive baseline, one TransactionDB
// transaction per record; (b) the copy limit and (c) the default path,
// Migrator::Migrate with an identity, a C++ or a JSON Patch migration (then,
// optionally, Migrator::Rollback(1)); and Migrator::DryRun.
//
// Contract: each case gets a fresh copy of the template at `path` (see
// CloneDb) and returns its CaseResult(s), checked with CheckSample; a
// failure is a result with ok false, never an exit. The timer covers the
// work only (not opening or closing the database); the peak RSS is reset
// before the database is opened, so it includes RocksDB's memory. Every
// case runs with RocksDB's default options (DbOptions), the WAL on and
// every commit synced.
#ifndef ROCKSMIGRATE_BENCHMARKS_BENCH_CASES_H_
#define ROCKSMIGRATE_BENCHMARKS_BENCH_CASES_H_

#include <string>
#include <vector>

#include "benchmarks/bench_config.h"

namespace rocksmigrate_bench {

// (a) One pessimistic transaction per record, as an application would write
// it without rocksmigrate. Times the first `cap` task records (the lower of
// --baseline-records and the task count), for at most --baseline-seconds.
CaseResult RunNaive(const Config& cfg, const std::string& path,
                    const DataStats& data);

// The migration RunMigrate registers: the Task v1 -> v2 step as C++
// (example::TaskV1ToV2) or as the JSON Patch file, or an identity step
// that rewrites every task record with its own bytes (the copy limit).
enum class MigrationKind { kCpp, kDeclarative, kIdentity };

// (c) Migrator::Migrate on a fresh copy; with `rollback`, then
// Migrator::Rollback(1) on the same database as a second result. With
// `backup_cf`, backups go to a dedicated column family. `tmp` holds the
// JSON Patch file for kDeclarative.
std::vector<CaseResult> RunMigrate(const Config& cfg, const std::string& tmp,
                                   const std::string& path,
                                   const DataStats& data, MigrationKind kind,
                                   bool backup_cf, bool rollback);

// Migrator::DryRun of the C++ migration; the database must stay untouched.
CaseResult RunDryRun(const Config& cfg, const std::string& path,
                     const DataStats& data);

}  // namespace rocksmigrate_bench

#endif  // ROCKSMIGRATE_BENCHMARKS_BENCH_CASES_H_
