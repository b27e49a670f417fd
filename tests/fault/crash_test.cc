// Scenarios 1 and 9: SIGKILL of a child process at each named fault point
// and at seeded random moments, and seeded random sequences of migrate /
// rollback / kill / resume, each checked against the model.
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/fault/fault_model.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace fault {
namespace {

using ::rocksmigrate::testing::TempDir;

std::vector<std::string> Args(const std::string& db, const std::string& op,
                              int to, int batch = 7) {
  std::vector<std::string> a = {"--db", db, "--op", op, "--batch",
                                std::to_string(batch)};
  if (to >= 0) {
    a.push_back(op == "prune" ? "--keep" : "--to");
    a.push_back(std::to_string(to));
  }
  return a;
}

// Expects the database at exactly version `v`, nothing in flight, and the
// invariant.
void ExpectSettled(const std::string& path, const Model& model, int v,
                   bool allow_pruned = false) {
  Dump all = ReadDb(path);
  EXPECT_EQ(StoredVersion(all), v);
  EXPECT_FALSE(InFlight(all)) << all["_migration_progress"];
  EXPECT_EQ(CheckInvariant(all, model, allow_pruned), "");
}

DatasetSpec SmallSpec() {
  DatasetSpec s;
  s.tasks = 120;
  s.notes = 60;
  s.others = 10;
  s.big = 1;
  s.big_payload = 3000;
  return s;
}

// ---------------------------------------------------------------------------
// Scenario 1: a kill at each named fault point.

struct PointCase {
  const char* op;  // "migrate", "rollback", "restore" (item error), "prune"
  const char* point;
  int nth;
};

std::string PointCaseName(const ::testing::TestParamInfo<PointCase>& info) {
  return absl::StrCat(info.param.op, "_", info.param.point, "_",
                      info.param.nth);
}

class FaultPointKillTest : public ::testing::TestWithParam<PointCase> {};

TEST_P(FaultPointKillTest, StateIsBeforeOrAfterAndRerunFinishes) {
  const PointCase& pc = GetParam();
  const uint64_t seed = TestSeed(std::hash<std::string>()(
      absl::StrCat(pc.op, pc.point, pc.nth)));
  TempDir dir;
  const std::string db = dir.Sub("db");
  Dump v1 = MakeDataset(seed, SmallSpec());
  const std::string op = pc.op;
  if (op == "restore") v1["note:000030"] = "BAD|record";
  Model model(v1);
  CreateDb(db, v1);
  const std::string arm = absl::StrCat(pc.point, ":", pc.nth);

  if (op == "migrate") {
    ChildResult r = RunChild(Args(db, "migrate", -1), arm);
    ASSERT_TRUE(r.killed) << "fault point " << arm << " never reached:\n"
                          << r.output;
    EXPECT_EQ(CheckInvariant(ReadDb(db), model), "");
    r = RunChild(Args(db, "migrate", -1));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ExpectSettled(db, model, kNewest);
  } else if (op == "rollback") {
    ChildResult r = RunChild(Args(db, "migrate", -1));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = RunChild(Args(db, "rollback", 1), arm);
    ASSERT_TRUE(r.killed) << "fault point " << arm << " never reached:\n"
                          << r.output;
    EXPECT_EQ(CheckInvariant(ReadDb(db), model), "");
    r = RunChild(Args(db, "rollback", 1));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ExpectSettled(db, model, 1);
    for (const auto& [k, v] : ReadDb(db)) {  // Each restored step's backup
      EXPECT_NE(k.rfind("_backup_", 0), 0u) << k;  // is deleted.
    }
  } else if (op == "restore") {
    // Step 2 -> 3 meets the BAD record and restores; the kill lands in the
    // restore. The next run finishes the restore and reports the failure.
    ChildResult r = RunChild(Args(db, "migrate", -1), arm);
    ASSERT_TRUE(r.killed) << r.output;
    EXPECT_EQ(CheckInvariant(ReadDb(db), model), "");
    r = RunChild(Args(db, "migrate", -1));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("note:000030"), std::string::npos) << r.output;
    ExpectSettled(db, model, 2);
    // The record is fixed; a re-run finishes the work.
    v1["note:000030"] = "v1|fixed";
    Model fixed(v1);
    {
      auto h = FaultDb::Open(db);
      ASSERT_TRUE(h.ok());
      (*h)->Put({{"note:000030", "v1|fixed"}});
    }
    r = RunChild(Args(db, "migrate", -1));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ExpectSettled(db, fixed, kNewest);
  } else if (op == "prune") {
    ChildResult r = RunChild(Args(db, "migrate", -1));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = RunChild(Args(db, "prune", 0), arm);
    ASSERT_TRUE(r.killed) << r.output;
    Dump all = ReadDb(db);
    EXPECT_EQ(CheckInvariant(all, model, /*allow_pruned=*/true), "");
    EXPECT_EQ(UserRecords(all), model.At(kNewest));
    r = RunChild(Args(db, "prune", 0));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ExpectSettled(db, model, kNewest, /*allow_pruned=*/true);
    for (const auto& [k, v] : ReadDb(db)) {
      EXPECT_NE(k.rfind("_backup_", 0), 0u) << "left after prune: " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Points, FaultPointKillTest,
    ::testing::Values(
        PointCase{"migrate", "step_start", 1},
        PointCase{"migrate", "step_start", 3},
        PointCase{"migrate", "before_batch", 1},
        PointCase{"migrate", "before_batch", 4},
        PointCase{"migrate", "before_commit", 1},
        PointCase{"migrate", "before_commit", 3},
        PointCase{"migrate", "before_commit", 20},
        PointCase{"migrate", "after_commit", 1},
        PointCase{"migrate", "after_commit", 6},
        PointCase{"migrate", "after_commit", 19},
        PointCase{"migrate", "before_step_finish", 1},
        PointCase{"migrate", "before_step_finish", 3},
        PointCase{"migrate", "between_steps", 1},
        PointCase{"migrate", "between_steps", 2},
        PointCase{"rollback", "rollback_batch", 1},
        PointCase{"rollback", "rollback_batch", 4},
        PointCase{"rollback", "rollback_batch", 30},
        PointCase{"rollback", "before_rollback_finish", 1},
        PointCase{"rollback", "before_rollback_finish", 2},
        PointCase{"rollback", "before_rollback_finish", 3},
        PointCase{"restore", "rollback_batch", 2},
        PointCase{"restore", "before_rollback_finish", 1},
        PointCase{"prune", "prune_between", 1},
        PointCase{"prune", "prune_between", 2}),
    PointCaseName);

// ---------------------------------------------------------------------------
// Scenario 1: kills at seeded random moments.

int64_t TimedRunUs(const std::vector<std::string>& args, ChildResult* r) {
  auto t0 = std::chrono::steady_clock::now();
  *r = RunChild(args);
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

TEST(RandomKillTest, KillsAtRandomMomentsLeaveBeforeOrAfterState) {
  const uint64_t seed = TestSeed(1);
  const int want_kills = LongCampaign() ? 200 : 30;
  std::mt19937_64 rng(seed);
  int kills = 0, rounds = 0;
  while (kills < want_kills) {
    ASSERT_LT(rounds, want_kills * 4) << "too few runs were killed";
    ++rounds;
    TempDir dir;
    const std::string db = dir.Sub("db");
    Dump v1 = MakeDataset(rng(), SmallSpec());
    Model model(v1);
    CreateDb(db, v1);
    // Calibrate the run's length on a copy-free dry pass: time one
    // unkilled migrate of an identical database.
    int64_t migrate_us, rollback_us;
    {
      TempDir cal;
      CreateDb(cal.Sub("db"), v1);
      ChildResult r;
      migrate_us = TimedRunUs(Args(cal.Sub("db"), "migrate", -1), &r);
      ASSERT_EQ(r.exit_code, 0) << r.output;
      rollback_us = TimedRunUs(Args(cal.Sub("db"), "rollback", 1), &r);
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    for (const char* op : {"migrate", "rollback"}) {
      const bool up = std::string(op) == "migrate";
      const int64_t span = up ? migrate_us : rollback_us;
      for (int attempt = 0;; ++attempt) {
        ASSERT_LT(attempt, 50) << "the run never finished";
        const int64_t delay = 1 + static_cast<int64_t>(rng() % (span * 5 / 4));
        ChildResult r = RunChild(Args(db, op, up ? -1 : 1), "", delay);
        if (!r.killed) {
          // A kill after the last commit (lease release, close) leaves the
          // work done: a rollback is then refused, having nothing to undo.
          if (!(r.exit_code == 2 && !up)) {
            ASSERT_EQ(r.exit_code, 0) << r.output;
          }
          ExpectSettled(db, model, up ? kNewest : 1);
          break;
        }
        ++kills;
        std::string why = CheckInvariant(ReadDb(db), model);
        ASSERT_EQ(why, "") << "after a kill of " << op << " at " << delay
                           << " us (seed " << seed << ")";
      }
    }
  }
  std::fprintf(stderr, "[fault] %d random kills in %d rounds\n", kills,
               rounds);
}

// ---------------------------------------------------------------------------
// Scenario 9: random sequences of migrate / rollback / kill / resume.

const char* const kMigratePoints[] = {"step_start",   "before_batch",
                                      "before_commit", "after_commit",
                                      "before_step_finish", "between_steps"};
const char* const kRollbackPoints[] = {"rollback_batch",
                                       "before_rollback_finish"};

class RandomSequenceTest : public ::testing::TestWithParam<int> {};

TEST_P(RandomSequenceTest, MatchesModel) {
  const int shard = GetParam();
  const int sequences = LongCampaign() ? 100 : 10;
  const uint64_t seed = TestSeed(1000 + shard);
  std::mt19937_64 rng(seed);
  auto pick = [&rng](int n) { return static_cast<int>(rng() % n); };
  DatasetSpec spec;
  spec.tasks = 24;
  spec.notes = 12;
  spec.others = 4;
  spec.big = 0;
  spec.max_payload = 40;
  int kills = 0;
  for (int seq = 0; seq < sequences; ++seq) {
    SCOPED_TRACE(absl::StrCat("seed ", seed, " sequence ", seq));
    TempDir dir;
    const std::string db = dir.Sub("db");
    Dump v1 = MakeDataset(rng(), spec);
    Model model(v1);
    CreateDb(db, v1);
    int version = kBaseline;
    const int ops = 3 + pick(4);
    for (int o = 0; o < ops; ++o) {
      // Choose an operation that makes sense at `version`.
      bool up = version == kBaseline || (version < kNewest && pick(2) == 0);
      int target = up ? version + 1 + pick(kNewest - version)
                      : kBaseline + pick(version - kBaseline);
      const int batch = 2 + pick(5);
      std::string trace = absl::StrCat(up ? "migrate" : "rollback", " to ",
                                       target, " batch ", batch);
      int expected = target;
      int to = target;
      bool first = true;
      bool flipped = false;  // At most one change of direction per op.
      while (true) {
        std::string arm;
        int64_t delay = 0;
        int roll = pick(10);
        if (roll < 5) {
          const char* point = up ? kMigratePoints[pick(6)]
                                 : kRollbackPoints[pick(2)];
          arm = absl::StrCat(point, ":", 1 + pick(4));
        } else if (roll < 7) {
          delay = 1 + pick(60000);
        }
        // After a kill, sometimes resume with the other operation, back to
        // where the sequence stood before the killed one (once: a second
        // change of direction would undo only the step in flight).
        std::string op = up ? "migrate" : "rollback";
        if (!first && !flipped && pick(4) == 0) {
          flipped = true;
          up = !up;
          op = up ? "migrate" : "rollback";
          to = expected = version;
          trace += absl::StrCat(" / resumed by ", op, " to ", to);
        }
        ChildResult r = RunChild(Args(db, op, to, batch), arm, delay);
        first = false;
        Dump all = ReadDb(db);
        if (r.killed) {
          ++kills;
          ASSERT_EQ(CheckInvariant(all, model), "")
              << trace << " killed at " << (arm.empty() ? "time" : arm);
          continue;
        }
        // A rollback that a kill interrupted is finished first, whatever
        // runs next: a migrate finishes it, stops there (exit 1, saying
        // so) and goes up only when run again.
        if (r.exit_code == 1 && op == "migrate" &&
            absl::StrContains(r.output, "interrupted rollback")) {
          EXPECT_FALSE(InFlight(all)) << trace;
          ASSERT_EQ(CheckInvariant(all, model), "") << trace;
          trace += " / the interrupted rollback finished first";
          continue;
        }
        // A rollback to the version it already is at is refused (nothing
        // to undo) — only possible here when a kill left nothing in flight.
        if (r.exit_code == 2 && op == "rollback") {
          EXPECT_EQ(StoredVersion(all), to) << trace << "\n" << r.output;
        } else {
          ASSERT_EQ(r.exit_code, 0) << trace << "\n" << r.output;
        }
        EXPECT_EQ(StoredVersion(all), expected) << trace;
        EXPECT_FALSE(InFlight(all)) << trace;
        ASSERT_EQ(CheckInvariant(all, model), "") << trace;
        break;
      }
      version = expected;
    }
  }
  std::fprintf(stderr, "[fault] shard %d: %d sequences, %d kills\n", shard,
               sequences, kills);
}

INSTANTIATE_TEST_SUITE_P(Shards, RandomSequenceTest, ::testing::Range(0, 10));

}  // namespace
}  // namespace fault
}  // namespace rocksmigrate
