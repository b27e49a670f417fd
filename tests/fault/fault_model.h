// Shared pieces of the fault suite: the suite's migrations, seeded
// datasets, a model of the expected records at each schema version
// (computed without the engine), the invariant checker every scenario ends
// with, and helpers to open databases and run the child process.
//
// The migrations work on versioned byte records "v<N>|<payload>":
//   step 1 -> 2: "task:"            (a "del|..." record is deleted)
//   step 2 -> 3: "task:" and "note:" (two migrations in one step)
//   step 3 -> 4: "note:"
// A migration to version T rewrites "v<N>|p" with N < T as "v<T>|p|s<T>",
// keeps a record already at >= T, and fails (an item error) on a value
// starting with "BAD" or not of that form. Keys under "user:" belong to no
// migration and must never change.
#ifndef ROCKSMIGRATE_TESTS_FAULT_FAULT_MODEL_H_
#define ROCKSMIGRATE_TESTS_FAULT_FAULT_MODEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rocksdb/env.h"
#include "rocksdb/utilities/transaction_db.h"
#include "rocksmigrate/migration.h"
#include "rocksmigrate/registry.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace fault {

using ::rocksmigrate::testing::Dump;

inline constexpr int kBaseline = 1;
inline constexpr int kNewest = 4;

// One migration of the suite (see the file comment).
class TagMigration : public Migration {
 public:
  TagMigration(int from, std::string prefix, bool deletes);
  int from() const override { return from_; }
  int to() const override { return from_ + 1; }
  std::string name() const override { return name_; }
  std::string prefix() const override { return prefix_; }
  absl::StatusOr<ItemResult> Migrate(std::string_view key,
                                     std::string_view value) const override;

 private:
  int from_;
  std::string prefix_;
  bool deletes_;
  std::string name_;
};

// A registry holding the suite's three steps (1 -> 4).
std::unique_ptr<MigrationRegistry> MakeRegistry();

struct DatasetSpec {
  int tasks = 200;
  int notes = 100;
  int others = 20;
  // Share (0..1) of task records that are "del|..." (deleted by step 1->2)
  // and that are already at v2 (skipped by it).
  double deleted = 0.05;
  double already_v2 = 0.1;
  int min_payload = 8;
  int max_payload = 200;
  // Number of records with a payload of big_payload bytes.
  int big = 2;
  int big_payload = 20000;
  // Payloads of words from a small vocabulary (compressible about as JSON
  // records are) instead of arbitrary bytes.
  bool compressible = false;
};

// A v1 database's user records, from `seed`. Payloads are arbitrary bytes.
Dump MakeDataset(uint64_t seed, const DatasetSpec& spec = DatasetSpec());

// The expected user records at each version, from the v1 records alone.
class Model {
 public:
  explicit Model(Dump v1);
  // The user records at version `v` (kBaseline..kNewest).
  const Dump& At(int v) const { return states_.at(v); }
  // True if step `from` -> from+1 changes (rewrites or deletes) `key`.
  bool Changes(int from, const std::string& key) const;

 private:
  std::vector<Dump> states_;  // Index = version.
};

// Checks the database's full dump (default column family) against the
// model, as SPEC §4 requires after any fault:
//   * no run in flight: the user records equal At(version) byte for byte;
//   * a run in flight in step f -> t: every user record holds its bytes of
//     At(f) or of At(t), and `_schema_version` is t only while a rollback of
//     that step is being finished, f otherwise;
//   * every backup record has a manifest and holds its key's bytes before
//     that step; every record a step changed has exactly one backup of
//     that step (applied steps, and migrated records of the step in
//     flight); an unmigrated record of a step in flight has at most one
//     (backups may be ingested ahead of the batches);
//   * an incomplete manifest belongs to the run in flight;
//   * the history has a success entry for exactly the applied steps.
// With `allow_pruned`, an applied step whose backup was deleted on purpose
// (no manifest of that step left) may have no backups.
// Returns "" when all hold, else a description of every violation.
std::string CheckInvariant(const Dump& all, const Model& model,
                           bool allow_pruned = false);

// The stored `_schema_version` (the baseline when absent).
int StoredVersion(const Dump& all);
// True if `_migration_progress` is present.
bool InFlight(const Dump& all);
// The user records (keys not starting with '_').
Dump UserRecords(const Dump& all);

struct OpenOptions {
  rocksdb::Env* env = nullptr;  // nullptr: the default Env.
  bool create_if_missing = true;
  // RocksDB preallocates WAL space; on a small tmpfs that eats the space
  // the disk-full tests measure.
  bool allow_fallocate = true;
  // TransactionDBOptions::transaction_lock_timeout.
  int64_t lock_timeout_ms = 1000;
};

// A TransactionDB with the default column family only. Closes on
// destruction.
class FaultDb {
 public:
  static absl::StatusOr<std::unique_ptr<FaultDb>> Open(
      const std::string& path, const OpenOptions& options = OpenOptions());
  ~FaultDb();
  rocksdb::TransactionDB* db() const { return db_.get(); }
  Dump DumpAll() const;
  // Writes `records` in one synced batch. REQUIRES: success (CHECKs).
  void Put(const Dump& records);
  // Flushes the memtable into an SST file.
  void Flush();

 private:
  std::unique_ptr<rocksdb::TransactionDB> db_;
};

// Every key of the closed database at `path` (default column family).
// CHECK-fails on an error.
Dump ReadDb(const std::string& path);

// Creates a database at `path` holding `records`, flushed into SST files,
// and closes it.
void CreateDb(const std::string& path, const Dump& records);

// The result of one child process run.
struct ChildResult {
  bool killed = false;  // Ended by SIGKILL (a fault point or the parent).
  int exit_code = -1;   // When not killed.
  std::string output;   // Its stderr and stdout.
};

// Runs the fault child (tests/fault/fault_child.cc) with `args`. With
// `fault_point` ("name:N") the child kills itself there; with
// `kill_after_us` > 0 the parent sends SIGKILL after that many
// microseconds (if the child still runs).
ChildResult RunChild(const std::vector<std::string>& args,
                     const std::string& fault_point = "",
                     int64_t kill_after_us = 0);

// The seed of a test: RM_FAULT_SEED if set, else a fixed default mixed with
// `salt`; printed so that a failure can be replayed.
uint64_t TestSeed(uint64_t salt);
// True when RM_LONG_CAMPAIGN=1 asks for the long campaigns.
bool LongCampaign();

}  // namespace fault
}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_TESTS_FAULT_FAULT_MODEL_H_
