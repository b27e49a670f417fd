// The crash test: a child process (tests/testutil/crash_child.cc) runs a
// two-step migration, a rollback (from the backups, or by down passes), or a
// migration that hits an item error,
// and is killed with SIGKILL at seeded random moments and at armed fault
// points; a final run of the child must then finish the job, and the
// database must hold exactly the bytes computed here, independently of the
// engine: every record, every backup record, `_schema_version`, and one
// history entry per step.
//
// RM_CRASH_SEED=<n> replays a campaign (the seed is printed);
// RM_LONG_CAMPAIGN=1 runs at least 200 kills per campaign instead of 20.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

#ifndef RM_CRASH_CHILD_PATH
#error "RM_CRASH_CHILD_PATH must name the crash_child executable"
#endif

extern char** environ;

namespace rocksmigrate {
namespace {

using ::rocksmigrate::testing::CopyHistory;
using ::rocksmigrate::testing::EraseHistory;
using ::rocksmigrate::testing::SetHistory;
using ::rocksmigrate::testing::DescribeDiff;
using ::rocksmigrate::testing::Dump;
using ::rocksmigrate::testing::RawHistory;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::rocksmigrate::testing::WithPrefix;
using ::testing::HasSubstr;

constexpr int kTasks = 80;
constexpr int kNotes = 80;
constexpr int kPoison = 50;  // The task that step 2 cannot migrate.

// What the database must hold before and after each step; computed from
// the chain's definition in crash_child.cc, not by running the engine.
struct Model {
  Dump original, after1, after2;
  // After both steps are undone by their down transforms: the original,
  // except where a down is not exact (a record step 1 skipped or that had
  // no version gets the v1 a down stamps).
  Dump downed;
  std::set<std::string> migrated1, migrated2;  // Backed up by each step.
  size_t user_records = 0;
};

Model BuildModel(bool poison) {
  Model m;
  for (int i = 0; i < kTasks; ++i) {
    const std::string k = absl::StrFormat("task:%04d", i);
    if (poison && i == kPoison) {
      m.original[k] = absl::StrFormat(
          R"({"id":%d,"title":"t%d","schema_version":1,"poison":true})", i, i);
      m.after1[k] = absl::StrFormat(
          R"({"id":%d,"title":"t%d","schema_version":2,"poison":true,"depends_on":[]})",
          i, i);
      m.migrated1.insert(k);
      continue;
    }
    if (i % 7 == 3) {  // Already at v2: skipped by step 1.
      m.original[k] = absl::StrFormat(
          R"({"id":%d,"schema_version":2,"title":"t%d","depends_on":["x"]})", i,
          i);
      m.after1[k] = m.original[k];
      m.after2[k] = absl::StrFormat(
          R"({"id":%d,"schema_version":3,"title":"t%d","depends_on":["x"],"priority":0})",
          i, i);
    } else if (i % 5 == 0) {  // No schema_version: older than any step.
      m.original[k] = absl::StrFormat(R"({"id":%d,"title":"t%d"})", i, i);
      m.after1[k] = absl::StrFormat(
          R"({"id":%d,"title":"t%d","depends_on":[],"schema_version":2})", i, i);
      m.after2[k] = absl::StrFormat(
          R"({"id":%d,"title":"t%d","depends_on":[],"schema_version":3,"priority":0})",
          i, i);
      m.migrated1.insert(k);
    } else {
      m.original[k] = absl::StrFormat(
          R"({"id":%d,"title":"t%d","schema_version":1})", i, i);
      m.after1[k] = absl::StrFormat(
          R"({"id":%d,"title":"t%d","schema_version":2,"depends_on":[]})", i, i);
      m.after2[k] = absl::StrFormat(
          R"({"id":%d,"title":"t%d","schema_version":3,"depends_on":[],"priority":0})",
          i, i);
      m.migrated1.insert(k);
    }
    m.migrated2.insert(k);
  }
  std::vector<std::pair<std::string, std::string>> notes;
  for (int i = 0; i < kNotes; ++i) {
    notes.emplace_back(absl::StrFormat("note:%04d", i), absl::StrCat("n", i));
  }
  notes.emplace_back(std::string("note:\xff\x00z", 8),
                     std::string("\x00\xff binary", 9));
  notes.emplace_back("note:empty", "");
  for (const auto& [k, v] : notes) {
    m.original[k] = v;
    m.after1[k] = v + "+";
    m.after2[k] = v + "+#";
    m.migrated1.insert(k);
    m.migrated2.insert(k);
  }
  // Neighbours that no step may touch.
  for (const char* k : {"task", "task;", "tasks:1", "nota:1", "note", "zzz"}) {
    m.original[k] = m.after1[k] = m.after2[k] = absl::StrCat("keep ", k);
  }
  m.user_records = m.original.size();
  m.downed = m.original;
  for (int i = 0; i < kTasks; ++i) {
    const std::string k = absl::StrFormat("task:%04d", i);
    if (i % 7 == 3) {
      m.downed[k] = absl::StrFormat(R"({"id":%d,"schema_version":1,"title":"t%d"})", i, i);
    } else if (i % 5 == 0) {
      m.downed[k] = absl::StrFormat(R"({"id":%d,"title":"t%d","schema_version":1})", i, i);
    }
  }
  if (poison) m.after2.clear();  // Never reached.
  return m;
}

void Seed(const std::string& path, const Dump& records) {
  auto db = TestDb::Open(path);
  db->Put(records);
}

struct ChildResult {
  bool killed = false;   // By our SIGKILL (or an armed fault point).
  int exit_code = -1;    // When it exited.
};

// Runs crash_child on `db`; arms `fault` ("name:K") if not empty; kills it
// after `kill_after` if set. Output goes to `log`.
ChildResult RunChild(const std::string& db, const std::string& mode,
                     int batch_items, int threads, const std::string& fault,
                     std::optional<absl::Duration> kill_after,
                     const std::string& log) {
  std::vector<std::string> args = {RM_CRASH_CHILD_PATH, db, mode,
                                   std::to_string(batch_items),
                                   std::to_string(threads)};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string(*e).rfind("RM_FAULT_POINT=", 0) == 0) continue;
    env.emplace_back(*e);
  }
  if (!fault.empty()) env.push_back("RM_FAULT_POINT=" + fault);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  EXPECT_GE(log_fd, 0);

  const absl::Time start = absl::Now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ChildResult result;
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return result;
  }
  bool we_killed = false;
  if (kill_after) {
    absl::SleepFor(*kill_after);
    // Not reaped yet, so the pid is still this child (maybe a zombie).
    ::kill(pid, SIGKILL);
    we_killed = true;
  }
  int status = 0;
  while (true) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (absl::Now() - start > absl::Seconds(120)) {  // A hang is a failure.
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "crash_child hung: " << mode << " on " << db;
      return result;
    }
    absl::SleepFor(absl::Microseconds(500));
  }
  if (WIFSIGNALED(status)) {
    result.killed = WTERMSIG(status) == SIGKILL;
    if (!result.killed || (!we_killed && fault.empty())) {
      ADD_FAILURE() << "crash_child died of signal " << WTERMSIG(status);
    }
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Expects `actual` to hold exactly `expected` plus the bookkeeping keys
// that `allowed` names (taken as they are) and the records of `backups`.
void ExpectExactly(const Dump& actual, const Dump& user_expected,
                   const std::map<std::string, Dump>& backups,
                   const std::string& version) {
  Dump expected = user_expected;
  expected["_schema_version"] = version;
  for (const auto& [id, records] : backups) {
    ASSERT_EQ(actual.count(id), 1u) << "missing manifest " << id;
    expected[id] = actual.at(id);
    for (const auto& [k, v] : records) expected[id + ":" + k] = v;
  }
  ASSERT_EQ(actual.count("_migration_history"), 1u);
  CopyHistory(actual, &expected);
  // A kill after a run's last write and before its lease was released
  // leaves `_migration_lock` (who ran); a later run that has nothing to do
  // takes no lease and leaves it. It is informational, never data.
  if (actual.count("_migration_lock") > 0) {
    EXPECT_THAT(actual.at("_migration_lock"), ::testing::HasSubstr("\"pid\""));
    expected["_migration_lock"] = actual.at("_migration_lock");
  }
  EXPECT_EQ(actual, expected) << DescribeDiff(expected, actual);
}

Dump BackupOf(const Dump& before, const std::set<std::string>& keys) {
  Dump out;
  for (const auto& k : keys) out[k] = before.at(k);
  return out;
}

void CheckMigrated(const std::string& path, const Model& m) {
  Dump all = TestDb::Open(path)->DumpAll();
  nlohmann::json h = RawHistory(all);
  ASSERT_EQ(h.size(), 2u) << h.dump();
  EXPECT_EQ(h[0]["from"], 1);
  EXPECT_EQ(h[0]["to"], 2);
  EXPECT_EQ(h[0]["status"], "success");
  EXPECT_EQ(h[0]["items_migrated"], m.migrated1.size());
  EXPECT_EQ(h[1]["from"], 2);
  EXPECT_EQ(h[1]["to"], 3);
  EXPECT_EQ(h[1]["status"], "success");
  EXPECT_EQ(h[1]["items_migrated"], m.migrated2.size());
  const std::string b1 = h[0]["backup_id"], b2 = h[1]["backup_id"];
  ASSERT_NE(b1, b2);
  ExpectExactly(all, m.after2,
                {{b1, BackupOf(m.original, m.migrated1)},
                 {b2, BackupOf(m.after1, m.migrated2)}},
                "3");
  for (const std::string& id : {b1, b2}) {
    auto manifest = nlohmann::json::parse(all.at(id));
    EXPECT_EQ(manifest["complete"], true) << id;
  }
}

void CheckFailedAndRestored(const std::string& path, const Model& m) {
  Dump all = TestDb::Open(path)->DumpAll();
  nlohmann::json h = RawHistory(all);
  ASSERT_GE(h.size(), 2u) << h.dump();
  EXPECT_EQ(h[0]["status"], "success");
  const std::string b1 = h[0]["backup_id"];
  for (size_t i = 1; i < h.size(); ++i) {
    EXPECT_EQ(h[i]["status"], "failed") << h.dump();
    EXPECT_EQ(h[i]["from"], 2);
    ASSERT_TRUE(h[i]["error"].is_string()) << h.dump();
    EXPECT_THAT(h[i]["error"].get<std::string>(),
                HasSubstr(absl::StrFormat("task:%04d", kPoison)));
  }
  // The failed steps' backups are gone: only step 1's is left.
  ExpectExactly(all, m.after1, {{b1, BackupOf(m.original, m.migrated1)}}, "2");
}

void CheckRolledBack(const std::string& path, const Model& m) {
  Dump all = TestDb::Open(path)->DumpAll();
  nlohmann::json h = RawHistory(all);
  ASSERT_EQ(h.size(), 2u) << h.dump();
  EXPECT_EQ(h[0]["status"], "rolled_back");
  EXPECT_EQ(h[1]["status"], "rolled_back");
  ExpectExactly(all, m.original, {}, "1");
}

// Both steps undone by down passes: the records as the downs leave them,
// v1, both entries rolled_back by down, the steps' backups untouched, no
// down pass's backup left.
void CheckRolledBackByDown(const std::string& path, const Model& m) {
  Dump all = TestDb::Open(path)->DumpAll();
  nlohmann::json h = RawHistory(all);
  ASSERT_EQ(h.size(), 2u) << h.dump();
  for (const auto& e : h) {
    EXPECT_EQ(e["status"], "rolled_back") << h.dump();
    EXPECT_EQ(e["down"], true) << h.dump();
  }
  const std::string b1 = h[0]["backup_id"], b2 = h[1]["backup_id"];
  ExpectExactly(all, m.downed,
                {{b1, BackupOf(m.original, m.migrated1)},
                 {b2, BackupOf(m.after1, m.migrated2)}},
                "1");
}

enum class Scenario { kMigrate, kItemError, kRollback, kRollbackDown };

struct Campaign {
  Scenario scenario;
  int target_kills;
  uint64_t seed;
};

uint64_t BaseSeed() {
  static const uint64_t seed = [] {
    const char* env = std::getenv("RM_CRASH_SEED");
    if (env != nullptr && *env != '\0') {
      return static_cast<uint64_t>(std::strtoull(env, nullptr, 10));
    }
    return static_cast<uint64_t>(std::random_device()()) << 16 ^
           static_cast<uint64_t>(::getpid());
  }();
  return seed;
}

int TargetKills(int ci) {
  const char* env = std::getenv("RM_LONG_CAMPAIGN");
  return (env != nullptr && std::string(env) == "1") ? std::max(200, ci) : ci;
}

// The fault points a scenario passes through, with the largest useful K.
std::vector<std::pair<std::string, int>> FaultPoints(Scenario s, int batch) {
  const int task_batches = (kTasks + batch - 1) / batch;
  const int note_batches = (kNotes + 2 + batch - 1) / batch;
  const int step_batches = task_batches + note_batches;
  switch (s) {
    case Scenario::kMigrate:
      return {{"step_start", 2},          {"before_batch", 2 * step_batches},
              {"before_commit", 2 * step_batches},
              {"after_commit", 2 * step_batches},
              {"before_step_finish", 2},  {"between_steps", 1}};
    case Scenario::kItemError:
      return {{"before_commit", step_batches + note_batches + 2},
              {"after_commit", step_batches + note_batches + 2},
              {"step_start", 2},
              {"rollback_batch", note_batches + kPoison / batch},
              {"rollback_batch", note_batches + kPoison / batch},
              {"before_rollback_finish", 1}};
    case Scenario::kRollback:
      return {{"rollback_batch", 2 * step_batches},
              {"rollback_batch", 2 * step_batches},
              {"before_rollback_finish", 2}};
    case Scenario::kRollbackDown:
      return {{"before_batch", 2 * step_batches},
              {"before_commit", 2 * step_batches},
              {"after_commit", 2 * step_batches},
              {"before_down_finish", 2}};
  }
  return {};
}

void RunCampaign(const Campaign& c) {
  std::cout << "crash campaign seed " << c.seed << " (replay with RM_CRASH_SEED="
            << BaseSeed() << ")\n";
  ::testing::Test::RecordProperty("seed", std::to_string(c.seed));
  std::mt19937_64 rng(c.seed);
  auto pick = [&rng](int lo, int hi) {  // Inclusive.
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  const Model model = BuildModel(c.scenario == Scenario::kItemError);
  const bool rollback = c.scenario == Scenario::kRollback ||
                        c.scenario == Scenario::kRollbackDown;
  const std::string mode = c.scenario == Scenario::kRollback ? "rollback"
                           : c.scenario == Scenario::kRollbackDown
                               ? "rollback-down"
                               : "migrate";
  const int expected_exit = c.scenario == Scenario::kItemError ? 1 : 0;
  TempDir dir;
  const std::string log = dir.Sub("child.log");
  auto check = [&](const std::string& path) {
    switch (c.scenario) {
      case Scenario::kMigrate:
        CheckMigrated(path, model);
        break;
      case Scenario::kItemError:
        CheckFailedAndRestored(path, model);
        break;
      case Scenario::kRollback:
        CheckRolledBack(path, model);
        break;
      case Scenario::kRollbackDown:
        CheckRolledBackByDown(path, model);
        break;
    }
  };

  // A migrated database to start rollbacks from, and the duration of one
  // uninterrupted child run (the range of the random kill delays).
  const std::string migrated = dir.Sub("migrated");
  if (rollback) {
    Seed(migrated, model.original);
    ChildResult r = RunChild(migrated, "migrate", 5, 2, "", std::nullopt, log);
    ASSERT_EQ(r.exit_code, 0) << ReadFile(log);
    CheckMigrated(migrated, model);
  }
  auto fresh = [&](const std::string& path) {
    if (rollback) {
      std::filesystem::copy(migrated, path,
                            std::filesystem::copy_options::recursive);
    } else {
      Seed(path, model.original);
    }
  };
  absl::Duration full;
  {
    const std::string path = dir.Sub("calibrate");
    fresh(path);
    const absl::Time t0 = absl::Now();
    ChildResult r = RunChild(path, mode, 5, 2, "", std::nullopt, log);
    full = absl::Now() - t0;
    ASSERT_EQ(r.exit_code, expected_exit) << ReadFile(log);
    check(path);
    if (::testing::Test::HasFailure()) return;
  }

  int kills = 0, fault_kills = 0, delay_kills = 0;
  for (int iter = 0; kills < c.target_kills && iter < 6 * c.target_kills;
       ++iter) {
    const std::string path = dir.Sub(absl::StrCat("db", iter));
    fresh(path);
    const int batch = std::vector<int>{3, 5, 8}[pick(0, 2)];
    const int threads = pick(1, 2);
    const int rounds = pick(1, 3);
    std::string trace;
    for (int round = 0; round < rounds; ++round) {
      std::string fault;
      std::optional<absl::Duration> delay;
      if (pick(0, 1) == 0) {
        auto points = FaultPoints(c.scenario, batch);
        const auto& [name, max_k] = points[pick(0, points.size() - 1)];
        fault = absl::StrCat(name, ":", pick(1, max_k));
      } else {
        delay = absl::Microseconds(
            pick(0, static_cast<int>(absl::ToInt64Microseconds(full))));
      }
      absl::StrAppend(&trace, " [", fault.empty() ? "delay " : fault,
                      delay ? absl::FormatDuration(*delay) : "", "]");
      ChildResult r = RunChild(path, mode, batch, threads, fault, delay, log);
      if (r.killed) {
        ++kills;
        (fault.empty() ? delay_kills : fault_kills)++;
      } else {
        ASSERT_EQ(r.exit_code, expected_exit)
            << "iteration " << iter << trace << "\n" << ReadFile(log);
      }
    }
    // Resume: the child runs to the end.
    ChildResult r = RunChild(path, mode, batch, threads, "", std::nullopt, log);
    ASSERT_EQ(r.exit_code, expected_exit)
        << "iteration " << iter << trace << "\n" << ReadFile(log);
    SCOPED_TRACE(absl::StrCat("seed ", c.seed, " iteration ", iter,
                              " batch ", batch, " threads ", threads, trace));
    check(path);
    if (::testing::Test::HasFailure()) return;
    std::filesystem::remove_all(path);
    std::filesystem::remove(log);
  }
  std::cout << kills << " kills (" << fault_kills << " at fault points, "
            << delay_kills << " after random delays)\n";
  EXPECT_GE(kills, c.target_kills);
}

TEST(CrashTest, KilledMigrationsResumeToExactBytes) {
  RunCampaign({Scenario::kMigrate, TargetKills(20), BaseSeed()});
}

TEST(CrashTest, KilledItemErrorRestoresFinishByteExactly) {
  RunCampaign({Scenario::kItemError, TargetKills(8), BaseSeed() + 1});
}

TEST(CrashTest, KilledRollbacksFinishByteExactly) {
  RunCampaign({Scenario::kRollback, TargetKills(8), BaseSeed() + 2});
}

TEST(CrashTest, KilledDownPassesFinishToExactBytes) {
  RunCampaign({Scenario::kRollbackDown, TargetKills(8), BaseSeed() + 3});
}

}  // namespace
}  // namespace rocksmigrate
