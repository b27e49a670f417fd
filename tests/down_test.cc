// Down migrations: a rollback that undoes a step by its migrations' down
// transforms (C++ Down(), a file's "down" patch) when the backup is gone or
// when asked to; the round trip back to the original bytes; the refusals
// that write nothing; an item error in a down pass restored byte for byte;
// the dry run.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksmigrate/declarative.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/patch_migration.h"
#include "tests/testutil/test_db.h"
#include "tests/testutil/test_migrations.h"

namespace rocksmigrate {
namespace {

using ::rocksmigrate::testing::DescribeDiff;
using ::rocksmigrate::testing::Dump;
using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::MakeMigrator;
using ::rocksmigrate::testing::StatusIs;
using ::rocksmigrate::testing::TempDir;
using ::rocksmigrate::testing::TestDb;
using ::testing::HasSubstr;

Dump WithoutReserved(const Dump& d) {
  Dump out;
  for (const auto& [k, v] : d) {
    if (k.empty() || k[0] != '_') out[k] = v;
  }
  return out;
}

Dump Tasks(int n, bool poison_last = false) {
  Dump d;
  for (int i = 0; i < n; ++i) {
    d[absl::StrFormat("task:%03d", i)] =
        poison_last && i == n - 1
            ? absl::StrFormat(R"({"id":%d,"schema_version":1,"poison":true})", i)
            : absl::StrFormat(R"({"id":%d,"schema_version":1})", i);
  }
  return d;
}

// v1 -> v2 adds "done": false; its down removes it again (exact), and fails
// on a record carrying "poison" when `poison_down` is set.
class AddDone : public JsonMigration {
 public:
  explicit AddDone(bool with_down = true, bool poison_down = false)
      : JsonMigration(1, 2, "task_add_done", "task:"),
        with_down_(with_down),
        poison_down_(poison_down) {}
  absl::Status Transform(std::string_view, Json& task) const override {
    task["done"] = false;
    return absl::OkStatus();
  }
  bool has_down() const override { return with_down_; }
  absl::Status DownTransform(std::string_view, Json& task) const override {
    if (poison_down_ && task.contains("poison")) {
      return absl::InvalidArgumentError("cannot undo a poisoned record");
    }
    task.erase("done");
    return absl::OkStatus();
  }

 private:
  bool with_down_;
  bool poison_down_;
};

// A database of nine tasks migrated by `registry` (AddDone).
struct Migrated {
  TempDir dir;
  std::unique_ptr<TestDb> db;
  Dump original;  // The tasks before the step.
  Dump migrated;  // Every key after it (and after dropping the backup).
  std::string backup_id;
};

// Fills `m`: nine tasks, the last one poisoned if `poison_last`, migrated
// in batches of 2; with `drop_backup`, the step's backup is then deleted (a
// pruned one), so that a rollback needs the down transforms.
void MigrateTasks(Migrated* m, MigrationRegistry* registry, bool drop_backup,
                  bool poison_last = false) {
  m->db = TestDb::Open(m->dir.Sub("db"));
  m->original = Tasks(9, poison_last);
  m->db->Put(m->original);
  auto migrator = MakeMigrator(m->db->db(), registry, testing::SmallBatches(2));
  auto report = migrator->Migrate();
  ASSERT_THAT(report, IsOk());
  m->backup_id = *report->steps.at(0).backup_id;
  if (drop_backup) {
    ASSERT_THAT(migrator->DeleteBackup(m->backup_id), IsOk());
  }
  m->migrated = m->db->DumpAll();
}

// MigrateTasks() without the backup, then a rollback stopped at the first
// batch boundary of its down pass: the pass is in flight.
void StopDownPass(Migrated* m, MigrationRegistry* registry) {
  ASSERT_NO_FATAL_FAILURE(MigrateTasks(m, registry, /*drop_backup=*/true));
  std::atomic<bool> stop{true};  // Seen at the first batch boundary.
  MigratorOptions o = testing::SmallBatches(2);
  o.stop_requested = &stop;
  auto stopping = MakeMigrator(m->db->db(), registry, o);
  ASSERT_THAT(stopping->Rollback(1), StatusIs(absl::StatusCode::kCancelled));
}

TEST(DownTest, RoundTripGivesTheOriginalBytesWhenTheBackupIsGone) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddDone>()), IsOk());
  Migrated m;
  ASSERT_NO_FATAL_FAILURE(MigrateTasks(&m, &registry, /*drop_backup=*/true));
  EXPECT_EQ(m.db->DumpUser().at("task:000"),
            R"({"id":0,"schema_version":2,"done":false})");
  auto migrator = MakeMigrator(m.db->db(), &registry, testing::SmallBatches(2));
  auto report = migrator->Rollback(1);  // Auto: no backup, so down.
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(m.db->DumpUser(), m.original)
      << DescribeDiff(m.original, m.db->DumpUser());
  ASSERT_EQ(report->steps.size(), 1u);
  EXPECT_EQ(report->steps[0].status, StepStatus::kRolledBack);
  EXPECT_TRUE(report->steps[0].down);
  auto history = migrator->History();
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 1u);  // The applied entry, now rolled_back.
  EXPECT_EQ((*history)[0].status, StepStatus::kRolledBack);
  EXPECT_TRUE((*history)[0].down);
  auto state = migrator->Inspect();
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->current_version, 1);
  EXPECT_FALSE(state->in_flight);
  // The down pass's own backup is gone with it.
  auto backups = migrator->ListBackups();
  ASSERT_THAT(backups, IsOk());
  EXPECT_TRUE(backups->empty());
  // And the step applies again.
  ASSERT_THAT(migrator->Migrate(), IsOk());
  EXPECT_EQ(m.db->DumpUser(), WithoutReserved(m.migrated));
}

TEST(DownTest, AutoUsesTheBackupWhileItExistsAndDownIsForcedByAsking) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddDone>()), IsOk());
  Migrated m;
  ASSERT_NO_FATAL_FAILURE(MigrateTasks(&m, &registry, /*drop_backup=*/false));
  auto migrator = MakeMigrator(m.db->db(), &registry, testing::SmallBatches(2));
  {
    auto report = migrator->Rollback(1, RollbackMethod::kDown);
    ASSERT_THAT(report, IsOk());
    EXPECT_TRUE(report->steps.at(0).down);
    EXPECT_EQ(m.db->DumpUser(), m.original);
    // The step's own backup is left for the operator to prune.
    auto backups = migrator->ListBackups();
    ASSERT_THAT(backups, IsOk());
    ASSERT_EQ(backups->size(), 1u);
    EXPECT_EQ(backups->at(0).id, m.backup_id);
  }
  auto again = migrator->Migrate();
  ASSERT_THAT(again, IsOk());
  auto report = migrator->Rollback(1);  // Auto, with the new backup.
  ASSERT_THAT(report, IsOk());
  EXPECT_FALSE(report->steps.at(0).down);
  EXPECT_EQ(m.db->DumpUser(), m.original);
}

TEST(DownTest, NeitherBackupNorDownIsRefusedWithNothingWritten) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddDone>(/*with_down=*/false)),
              IsOk());
  Migrated m;
  ASSERT_NO_FATAL_FAILURE(MigrateTasks(&m, &registry, /*drop_backup=*/true));
  auto migrator = MakeMigrator(m.db->db(), &registry, testing::SmallBatches(2));
  auto report = migrator->Rollback(1);
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(report.status().message()),
              HasSubstr("migration task_add_done has no down transform"));
  EXPECT_THAT(std::string(report.status().message()),
              HasSubstr("nothing was changed"));
  EXPECT_EQ(m.db->DumpAll(), m.migrated);
  // Asking for down names the same reason; asking for the backup, its loss.
  auto down = migrator->Rollback(1, RollbackMethod::kDown);
  EXPECT_THAT(std::string(down.status().message()),
              HasSubstr("with its down transforms: migration task_add_done"));
  auto backup = migrator->Rollback(1, RollbackMethod::kBackup);
  EXPECT_THAT(std::string(backup.status().message()), HasSubstr("was deleted"));
  EXPECT_EQ(m.db->DumpAll(), m.migrated);
}

TEST(DownTest, AnItemErrorInTheDownPassRestoresItsRecordsAndKeepsTheStep) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddDone>(true, true)), IsOk());
  Migrated m;
  ASSERT_NO_FATAL_FAILURE(MigrateTasks(&m, &registry, /*drop_backup=*/false,
                                       /*poison_last=*/true));
  auto migrator = MakeMigrator(m.db->db(), &registry, testing::SmallBatches(2));
  // Batches of 2: four batches of the down pass commit before task:008.
  auto report = migrator->Rollback(1, RollbackMethod::kDown);
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(std::string(report.status().message()),
              HasSubstr("task:008"));
  EXPECT_THAT(std::string(report.status().message()),
              HasSubstr("the step stays applied and the database at v2"));
  EXPECT_EQ(m.db->DumpUser(), WithoutReserved(m.migrated))
      << DescribeDiff(WithoutReserved(m.migrated), m.db->DumpUser());
  auto history = migrator->History();
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].status, StepStatus::kSuccess);  // Untouched.
  EXPECT_EQ((*history)[1].status, StepStatus::kFailed);
  EXPECT_TRUE((*history)[1].down);
  auto state = migrator->Inspect();
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->current_version, 2);
  EXPECT_FALSE(state->in_flight);
  EXPECT_TRUE(state->bookkeeping_status.ok()) << state->bookkeeping_status;
  // The step's backup still undoes it.
  ASSERT_THAT(migrator->Rollback(1), IsOk());
  EXPECT_EQ(m.db->DumpUser(), Tasks(9, true));
}

TEST(DownTest, AStoppedDownPassIsFinishedByWhateverRunsNext) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddDone>()), IsOk());
  Migrated m;
  ASSERT_NO_FATAL_FAILURE(StopDownPass(&m, &registry));
  auto state = MakeMigrator(m.db->db(), &registry)->Inspect();
  ASSERT_THAT(state, IsOk());
  ASSERT_TRUE(state->in_flight);
  EXPECT_TRUE(state->in_flight->down);
  EXPECT_EQ(state->in_flight_action, InFlightAction::kFinishRollback);
  EXPECT_EQ(state->current_version, 2);
  EXPECT_TRUE(state->bookkeeping_status.ok()) << state->bookkeeping_status;
  // Migrate() finishes the rollback and stops there.
  auto migrator = MakeMigrator(m.db->db(), &registry, testing::SmallBatches(2));
  EXPECT_THAT(migrator->Migrate(), StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(m.db->DumpUser(), m.original);
  auto after = migrator->Inspect();
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->current_version, 1);
  EXPECT_FALSE(after->in_flight);
}

TEST(DownTest, AbandonedDownPassPutsTheStepBack) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddDone>()), IsOk());
  Migrated m;
  ASSERT_NO_FATAL_FAILURE(StopDownPass(&m, &registry));
  auto migrator = MakeMigrator(m.db->db(), &registry, testing::SmallBatches(2));
  ASSERT_THAT(migrator->Abandon(), IsOk());
  EXPECT_EQ(m.db->DumpUser(), WithoutReserved(m.migrated));
  auto history = migrator->History();
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].status, StepStatus::kSuccess);
  EXPECT_EQ((*history)[1].status, StepStatus::kAborted);
  EXPECT_TRUE((*history)[1].down);
}

TEST(DownTest, ADownPassInFlightRefusesAChangedRegistry) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddDone>()), IsOk());
  Migrated m;
  ASSERT_NO_FATAL_FAILURE(StopDownPass(&m, &registry));
  const Dump in_flight = m.db->DumpAll();
  MigrationRegistry without_down;
  ASSERT_THAT(without_down.Register(std::make_unique<AddDone>(false)), IsOk());
  auto migrator = MakeMigrator(m.db->db(), &without_down);
  auto refused = migrator->Rollback(1);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("has no down transform"));
  EXPECT_EQ(m.db->DumpAll(), in_flight);
}

TEST(DownTest, DryRunCountsWhatTheDownWouldRewriteAndWritesNothing) {
  MigrationRegistry registry;
  ASSERT_THAT(registry.Register(std::make_unique<AddDone>(true, true)), IsOk());
  Migrated m;
  ASSERT_NO_FATAL_FAILURE(MigrateTasks(&m, &registry, /*drop_backup=*/false,
                                       /*poison_last=*/true));
  auto migrator = MakeMigrator(m.db->db(), &registry, testing::SmallBatches(2));
  auto down = migrator->DryRunRollback(1, RollbackMethod::kDown);
  ASSERT_THAT(down, IsOk());
  ASSERT_EQ(down->steps.size(), 1u);
  EXPECT_EQ(down->steps[0].undo_by, RollbackMethod::kDown);
  EXPECT_EQ(down->steps[0].from, 2);
  EXPECT_EQ(down->steps[0].to, 1);
  EXPECT_EQ(down->steps[0].items_to_migrate, 8u);
  EXPECT_EQ(down->steps[0].items_failed, 1u);
  EXPECT_TRUE(down->would_fail());
  auto backup = migrator->DryRunRollback(1);
  ASSERT_THAT(backup, IsOk());
  EXPECT_EQ(backup->steps.at(0).undo_by, RollbackMethod::kBackup);
  EXPECT_EQ(backup->steps.at(0).items_to_migrate, 9u);
  EXPECT_EQ(m.db->DumpAll(), m.migrated);
}

// ---------------------------------------------------------------------------
// A migration file's "down" patch.

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

constexpr char kRename[] = R"({"from": 1, "to": 2, "name": "rename_title",
  "prefix": "task:",
  "patch": [{"op": "move", "from": "/title", "path": "/name"}],
  "down": [{"op": "move", "from": "/name", "path": "/title"}]})";

TEST(DownFileTest, APatchAndItsDownRoundTripRecordsByteForByte) {
  auto m = PatchMigration::Create(
      1, "add_tags", "task:", R"([{"op":"add","path":"/tags","value":[]}])",
      R"([{"op":"remove","path":"/tags"}])");
  ASSERT_THAT(m, IsOk());
  ASSERT_TRUE((*m)->has_down());
  // Exact for compact records; a removed member takes the whitespace
  // before it with it, so a spaced record comes back respaced.
  const std::string original = R"({"id":7,"n":1.50,"schema_version":1})";
  auto up = (*m)->Migrate("task:7", original);
  ASSERT_THAT(up, IsOk());
  auto down = (*m)->Down("task:7", up->value());
  ASSERT_THAT(down, IsOk());
  ASSERT_EQ(down->kind(), ItemResult::Kind::kWrite);
  EXPECT_EQ(down->value(), original);
  // Below `to`: nothing to undo.
  auto kept = (*m)->Down("task:7", original);
  ASSERT_THAT(kept, IsOk());
  EXPECT_EQ(kept->kind(), ItemResult::Kind::kKeep);
  // A bad down patch is refused at Create.
  EXPECT_THAT(PatchMigration::Create(1, "x", "task:", "[]", R"([{"op":"nope"}])"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(DownFileTest, RollbackUsesTheFilesDownAndRefusesAFileEditedSince) {
  TempDir dir;
  const std::string mdir = dir.Sub("migrations");
  std::filesystem::create_directory(mdir);
  const std::string file = mdir + "/0002_rename_title.json";
  WriteFile(file, kRename);
  auto db = TestDb::Open(dir.Sub("db"));
  Dump original;
  for (int i = 0; i < 5; ++i) {
    original[absl::StrCat("task:", i)] =
        absl::StrFormat(R"({"schema_version":1,"id":%d,"title":"t%d"})", i, i);
  }
  // A move appends the member: exact here because "title" is last.
  db->Put(original);
  Dump migrated;
  {
    auto loaded = LoadMigrationDir(mdir);
    ASSERT_THAT(loaded, IsOk());
    MigrationRegistry registry;
    for (auto& mig : *loaded) ASSERT_THAT(registry.Register(std::move(mig)), IsOk());
    auto migrator = MakeMigrator(db->db(), &registry, MigratorOptions{});
    ASSERT_THAT(migrator->Migrate(), IsOk());
    migrated = db->DumpAll();
  }
  // Edited since it was applied: its down may not undo what ran.
  WriteFile(file, std::string(kRename) + "\n");
  {
    auto loaded = LoadMigrationDir(mdir);
    ASSERT_THAT(loaded, IsOk());
    MigrationRegistry registry;
    for (auto& mig : *loaded) ASSERT_THAT(registry.Register(std::move(mig)), IsOk());
    auto migrator = MakeMigrator(db->db(), &registry, MigratorOptions{});
    auto refused = migrator->Rollback(1, RollbackMethod::kDown);
    EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(std::string(refused.status().message()),
                HasSubstr("0002_rename_title.json changed since the step was applied"));
    EXPECT_EQ(db->DumpAll(), migrated);
  }
  WriteFile(file, kRename);
  auto loaded = LoadMigrationDir(mdir);
  ASSERT_THAT(loaded, IsOk());
  MigrationRegistry registry;
  for (auto& mig : *loaded) ASSERT_THAT(registry.Register(std::move(mig)), IsOk());
  auto migrator = MakeMigrator(db->db(), &registry, MigratorOptions{});
  auto report = migrator->Rollback(1, RollbackMethod::kDown);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(db->DumpUser(), original) << DescribeDiff(original, db->DumpUser());
}

TEST(DownFileTest, AMalformedDownFieldNamesTheFile) {
  TempDir dir;
  const std::string mdir = dir.Sub("migrations");
  std::filesystem::create_directory(mdir);
  WriteFile(mdir + "/0002_rename_title.json",
            R"({"from": 1, "to": 2, "name": "rename_title", "prefix": "task:",
  "patch": [], "down": {"op": "remove"}})");
  auto loaded = LoadMigrationDir(mdir);
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("0002_rename_title.json"));
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("field \"down\" must be an array"));
  WriteFile(mdir + "/0002_rename_title.json",
            R"({"from": 1, "to": 2, "name": "rename_title", "prefix": "task:",
  "patch": [], "down": [{"op": "remove"}]})");
  loaded = LoadMigrationDir(mdir);
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("field \"down\""));
}

}  // namespace
}  // namespace rocksmigrate
