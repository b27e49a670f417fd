// kill -9 of a server during an online backfill: tests/testutil/
// online_child.cc serves reads and writes while the v1 -> v2 step runs in
// the background; it is killed with SIGKILL at seeded random moments (at
// least 30 times), restarted, and finally run to the end of the backfill.
// Then, computed here without the engine: every record is at v2 and holds
// the server's last acknowledged write (or a later announced one) or the
// migration of its v1 bytes; no acknowledged write is lost; every record
// the server never wrote has exactly one backup of its v1 bytes; no read
// ever returned a record below v2.
//
// RM_CRASH_SEED=<n> replays a campaign (the seed is printed).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/registry.h"
#include "src/backup_store.h"
#include "tests/testutil/online_child.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

#ifndef RM_ONLINE_CHILD_PATH
#error "RM_ONLINE_CHILD_PATH must name the online_child executable"
#endif

namespace rocksmigrate {
namespace {

using ::rocksmigrate::testing::DescribeDiff;
using ::rocksmigrate::testing::Dump;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::rocksmigrate::testing::WithPrefix;
namespace oc = ::rocksmigrate::online_child;

struct ChildRun {
  bool killed = false;
  int exit_code = -1;
};

// Runs online_child; kills it after `kill_after` unless nullopt.
ChildRun RunChild(const std::string& db, const std::string& mode, uint64_t seed,
             std::optional<absl::Duration> kill_after, const std::string& log) {
  std::vector<std::string> args = {RM_ONLINE_CHILD_PATH, db, mode,
                                   std::to_string(seed)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  EXPECT_GE(fd, 0);
  const absl::Time start = absl::Now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fd);
  ChildRun r;
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return r;
  }
  if (kill_after) {
    absl::SleepFor(*kill_after);
    ::kill(pid, SIGKILL);
  }
  int status = 0;
  for (;;) {
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    if (absl::Now() - start > absl::Seconds(120)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "online_child hung";
      return r;
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  if (WIFSIGNALED(status)) {
    r.killed = WTERMSIG(status) == SIGKILL;
    if (!r.killed) ADD_FAILURE() << "online_child died of signal " << WTERMSIG(status);
  } else if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  }
  return r;
}

TEST(OnlineCrashTest, KillNineDuringTheBackfillLosesNothing) {
  uint64_t seed = std::random_device()();
  if (const char* s = std::getenv("RM_CRASH_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::cout << "online crash campaign seed " << seed
            << " (replay with RM_CRASH_SEED=" << seed << ")\n";
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string path = dir.Sub("db");
  const std::string log = dir.Sub("child.log");
  Dump v1;
  for (int i = 0; i < oc::kTasks; ++i) v1[oc::TaskKey(i)] = oc::V1Value(i);
  v1["note:1"] = "not migrated";
  {
    auto db = TestDb::Open(path);
    db->Put(v1);
  }

  int kills = 0, cycles = 0;
  uint64_t progress_at_kills = 0;
  while (kills < 30 || cycles < 30) {
    const auto delay = absl::Milliseconds(40 + rng() % 220);
    ChildRun r = RunChild(path, "serve", seed * 1000 + cycles, delay, log);
    ++cycles;
    ASSERT_TRUE(r.killed) << "exit " << r.exit_code << "; see the log:\n"
                          << std::ifstream(log).rdbuf();
    ++kills;
    ASSERT_LT(cycles, 200);
    ++progress_at_kills;
  }
  ChildRun last = RunChild(path, "finish", seed * 1000 + cycles, std::nullopt, log);
  ASSERT_EQ(last.exit_code, 0) << std::ifstream(log).rdbuf();

  // The writes each server made, from its own words.
  std::map<std::string, std::string> acked;      // key -> last acked n.
  std::map<std::string, std::string> announced;  // key -> last announced n.
  int stale = 0, acks = 0;
  {
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> f = absl::StrSplit(line, ' ');
      if (f[0] == "STALE") ++stale;
      if (f.size() != 3) continue;
      if (f[0] == "I") announced[f[1]] = f[2];
      if (f[0] == "W") {
        acked[f[1]] = f[2];
        ++acks;
      }
    }
  }
  EXPECT_EQ(stale, 0);
  EXPECT_GT(acks, 100);

  auto db = TestDb::Open(path);
  const Dump all = db->DumpAll();
  oc::AddDone m;
  uint64_t lost = 0, untouched = 0;
  std::string first_lost;
  for (int i = 0; i < oc::kTasks; ++i) {
    const std::string key = oc::TaskKey(i);
    auto got = all.find(key);
    ASSERT_NE(got, all.end()) << key;
    if (!announced.count(key)) {
      ++untouched;
      auto r = m.Migrate(key, v1.at(key));
      ASSERT_TRUE(r.ok() && r->kind() == ItemResult::Kind::kWrite);
      EXPECT_EQ(got->second, r->value()) << key;
      continue;
    }
    // The last acknowledged write, or the one announced after it.
    std::set<std::string> ok;
    auto a = acked.find(key);
    if (a != acked.end()) ok.insert(oc::ServerValue(i, std::stoull(a->second)));
    ok.insert(oc::ServerValue(i, std::stoull(announced.at(key))));
    if (a == acked.end()) {
      // Never acknowledged: the migration's output is allowed too.
      auto r = m.Migrate(key, v1.at(key));
      ok.insert(r->value());
    }
    if (!ok.count(got->second)) {
      if (lost++ == 0) first_lost = key + " = " + got->second;
    }
  }
  EXPECT_EQ(lost, 0u) << "first: " << first_lost;
  EXPECT_GT(untouched, 0u);
  EXPECT_EQ(all.at("note:1"), "not migrated");

  // One step, online, applied; one backup with the v1 bytes of every record
  // the server never wrote, and only v1 bytes.
  MigrationRegistry registry;
  ASSERT_TRUE(registry.Register(oc::MakeMigration()).ok());
  auto migrator = Migrator::Create(db->db(), &registry);
  ASSERT_TRUE(migrator.ok());
  auto history = (*migrator)->History();
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  const HistoryEntry& e = history->front();
  EXPECT_EQ(e.status, StepStatus::kSuccess);
  EXPECT_EQ(e.mode, RunMode::kOnline);
  ASSERT_TRUE(e.backup_id.has_value());
  const std::string id = *e.backup_id;
  Dump backup;
  for (const auto& [k, v] : WithPrefix(all, id + ":")) backup[k.substr(id.size() + 1)] = v;
  EXPECT_EQ(backup.size(), e.items_migrated);
  for (int i = 0; i < oc::kTasks; ++i) {
    const std::string key = oc::TaskKey(i);
    auto b = backup.find(key);
    if (!announced.count(key)) {
      ASSERT_NE(b, backup.end()) << key;
    }
    if (b != backup.end()) {
      EXPECT_EQ(b->second, v1.at(key)) << key;
    }
  }
  size_t digested = 0;
  for (const auto& [k, v] : WithPrefix(all, id + "#")) {
    auto block = DecodeDigestBlock(v, k);
    ASSERT_TRUE(block.ok()) << block.status();
    for (const DigestEntry& d : *block) {
      EXPECT_TRUE(backup.count(d.key)) << d.key << " has a digest, no backup";
      ++digested;
    }
  }
  EXPECT_EQ(digested, backup.size());
  EXPECT_FALSE(all.count("_migration_progress"));
  EXPECT_EQ(all.at("_schema_version"), "2");
  std::cout << kills << " kills in " << cycles << " cycles; " << acks
            << " acknowledged writes; " << e.items_migrated
            << " records migrated by the backfill, " << e.items_skipped
            << " skipped\n";
}

}  // namespace
}  // namespace rocksmigrate
