// Migrations and helpers shared by the engine tests: small C++ migrations
// whose effect is easy to predict byte for byte (and that are deliberately
// NOT idempotent, so a record migrated twice shows), JSON migrations,
// failing and throwing migrations, fixed clocks, and readers for the
// bookkeeping keys.
#ifndef ROCKSMIGRATE_TESTS_TESTUTIL_TEST_MIGRATIONS_H_
#define ROCKSMIGRATE_TESTS_TESTUTIL_TEST_MIGRATIONS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/migration.h"
#include "rocksmigrate/migrator.h"
#include "rocksmigrate/registry.h"
#include "tests/testutil/history_dump.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace testing {

// A C++ migration whose per-record decision is a function.
class FuncMigration : public Migration {
 public:
  using Fn = std::function<absl::StatusOr<ItemResult>(std::string_view,
                                                      std::string_view)>;
  FuncMigration(int from, std::string name, std::string prefix, Fn fn)
      : from_(from),
        name_(std::move(name)),
        prefix_(std::move(prefix)),
        fn_(std::move(fn)) {}
  int from() const override { return from_; }
  int to() const override { return from_ + 1; }
  std::string name() const override { return name_; }
  std::string prefix() const override { return prefix_; }
  absl::StatusOr<ItemResult> Migrate(std::string_view key,
                                     std::string_view value) const override {
    return fn_(key, value);
  }

 private:
  int from_;
  std::string name_;
  std::string prefix_;
  Fn fn_;
};

// Appends `suffix` to every value: applying it twice shows.
inline std::unique_ptr<Migration> Append(int from, std::string prefix,
                                         std::string suffix) {
  std::string name = absl::StrCat("append_v", from, "_", prefix.size());
  return std::make_unique<FuncMigration>(
      from, std::move(name), std::move(prefix),
      [suffix](std::string_view, std::string_view value)
          -> absl::StatusOr<ItemResult> {
        return ItemResult::Write(std::string(value) + suffix);
      });
}

// Appends `suffix`, except that the record `bad_key` is an item error.
inline std::unique_ptr<Migration> AppendFailingAt(int from, std::string prefix,
                                                  std::string suffix,
                                                  std::string bad_key) {
  return std::make_unique<FuncMigration>(
      from, "append_or_fail", std::move(prefix),
      [suffix, bad_key](std::string_view key, std::string_view value)
          -> absl::StatusOr<ItemResult> {
        if (key == bad_key) {
          return absl::InvalidArgumentError("this record cannot be migrated");
        }
        return ItemResult::Write(std::string(value) + suffix);
      });
}

// Appends `suffix`, and sets `*stop` (a MigratorOptions::stop_requested)
// when it transforms `stop_key`: a stop request that arrives mid-step, the
// way a signal handler's would, whatever the engine's commit pacing.
inline std::unique_ptr<Migration> AppendStoppingAt(int from, std::string prefix,
                                                   std::string suffix,
                                                   std::string stop_key,
                                                   std::atomic<bool>* stop) {
  std::string name = absl::StrCat("append_v", from, "_", prefix.size());
  return std::make_unique<FuncMigration>(
      from, std::move(name), std::move(prefix),
      [suffix, stop_key, stop](std::string_view key, std::string_view value)
          -> absl::StatusOr<ItemResult> {
        if (key == stop_key) *stop = true;
        return ItemResult::Write(std::string(value) + suffix);
      });
}

// Adds `field` = `value` to each JSON record (JsonMigration stamps the
// version).
class AddField : public JsonMigration {
 public:
  AddField(int from, std::string prefix, std::string field, Json value)
      : JsonMigration(from, from + 1,
                      absl::StrCat("add_", field, "_v", from + 1),
                      std::move(prefix)),
        field_(std::move(field)),
        value_(std::move(value)) {}
  absl::Status Transform(std::string_view key, Json& record) const override {
    record[field_] = value_;
    return absl::OkStatus();
  }

 private:
  std::string field_;
  Json value_;
};

// A clock that returns what the test sets.
struct ManualClock {
  std::shared_ptr<absl::Time> now =
      std::make_shared<absl::Time>(absl::FromCivil(
          absl::CivilSecond(2026, 11, 27, 5, 1, 2), absl::UTCTimeZone()));
  std::function<absl::Time()> fn() const {
    auto n = now;
    return [n] { return *n; };
  }
  void Set(absl::CivilSecond cs) {
    *now = absl::FromCivil(cs, absl::UTCTimeZone());
  }
};

// Options that make several batches out of a few records.
inline MigratorOptions SmallBatches(size_t items = 3, int threads = 1) {
  MigratorOptions o;
  o.batch_items = items;
  o.threads = threads;
  return o;
}

inline std::unique_ptr<Migrator> MakeMigrator(rocksdb::DB* db,
                                              const MigrationRegistry* registry,
                                              MigratorOptions options = {}) {
  auto m = Migrator::Create(db, registry, std::move(options));
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

// `_backup_<id>:<key>`.
inline std::string BackupKey(const std::string& id, const std::string& key) {
  return absl::StrCat(id, ":", key);
}

// Keys of `dump` that start with `prefix`.
inline Dump WithPrefix(const Dump& dump, const std::string& prefix) {
  Dump out;
  for (const auto& [k, v] : dump) {
    if (k.compare(0, prefix.size(), prefix) == 0) out[k] = v;
  }
  return out;
}

// Keys of `dump` that start with '_' (bookkeeping).
inline Dump Reserved(const Dump& dump) { return WithPrefix(dump, "_"); }

}  // namespace testing
}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_TESTS_TESTUTIL_TEST_MIGRATIONS_H_
