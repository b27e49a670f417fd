#include "rocksmigrate/upgrading_reader.h"

#include "absl/strings/str_cat.h"
#include "rocksmigrate/status_macros.h"
#include "src/keys.h"
#include "src/metadata.h"
#include "src/rocksdb_status.h"
#include "src/step_pipeline.h"

namespace rocksmigrate {
namespace {

constexpr absl::Duration kRefreshEvery = absl::Seconds(1);

bool Under(std::string_view key, const std::string& prefix) {
  return key.substr(0, prefix.size()) == prefix;
}

}  // namespace

UpgradingReader::UpgradingReader(rocksdb::DB* db,
                                 const MigrationRegistry* registry,
                                 int baseline, int to)
    : db_(db), registry_(registry), baseline_(baseline), to_(to) {}

absl::StatusOr<std::unique_ptr<UpgradingReader>> UpgradingReader::Create(
    rocksdb::DB* db, const MigrationRegistry* registry, int baseline_version) {
  if (db == nullptr || registry == nullptr) {
    return absl::InvalidArgumentError(
        "UpgradingReader needs a database and a registry");
  }
  if (baseline_version < 0) {
    return absl::InvalidArgumentError("the baseline version must be >= 0");
  }
  const int to =
      std::max(baseline_version, registry->target_version(baseline_version));
  std::unique_ptr<UpgradingReader> reader(
      new UpgradingReader(db, registry, baseline_version, to));
  RM_RETURN_IF_ERROR(reader->Refresh());
  return reader;
}

absl::StatusOr<std::shared_ptr<const UpgradingReader::Plan>>
UpgradingReader::PlanFrom(int from) const {
  auto plan = std::make_shared<Plan>();
  plan->from = from;
  if (from > to_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database's schema version is ", from,
        ", newer than this binary's newest version ", to_,
        "; its records cannot be read as v", to_));
  }
  if (from < to_) {
    RM_ASSIGN_OR_RETURN(plan->steps, registry_->PlanPath(from, to_));
  }
  return std::shared_ptr<const Plan>(std::move(plan));
}

absl::Status UpgradingReader::Refresh() const {
  MetaStore meta(db_);
  RM_ASSIGN_OR_RETURN(std::optional<int> stored, meta.ReadVersion());
  const int from = stored ? *stored : baseline_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (plan_ != nullptr && plan_->from == from) {
      next_refresh_ns_.store(absl::ToUnixNanos(absl::Now() + kRefreshEvery));
      return absl::OkStatus();
    }
  }
  RM_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, PlanFrom(from));
  std::lock_guard<std::mutex> lock(mu_);
  plan_ = std::move(plan);
  next_refresh_ns_.store(absl::ToUnixNanos(absl::Now() + kRefreshEvery));
  return absl::OkStatus();
}

std::shared_ptr<const UpgradingReader::Plan> UpgradingReader::CurrentPlan()
    const {
  const int64_t now = absl::ToUnixNanos(absl::Now());
  int64_t due = next_refresh_ns_.load();
  // One reader refreshes (the one that moves the deadline); the others go on
  // with the plan they have. A failed refresh keeps the plan read before:
  // its version is never above the records' (versions only go up while a
  // server reads).
  if (now >= due &&
      next_refresh_ns_.compare_exchange_strong(
          due, now + absl::ToInt64Nanoseconds(kRefreshEvery))) {
    Refresh().IgnoreError();
  }
  std::lock_guard<std::mutex> lock(mu_);
  return plan_;
}

int UpgradingReader::from_version() const { return CurrentPlan()->from; }

absl::StatusOr<std::optional<std::string>> UpgradingReader::Upgrade(
    std::string_view key, std::string value) const {
  if (!key.empty() && key[0] == '_') return std::optional<std::string>(std::move(value));
  std::shared_ptr<const Plan> plan = CurrentPlan();
  for (const Step& step : plan->steps) {
    for (const Migration* m : step.migrations) {
      if (!Under(key, m->prefix())) continue;
      absl::StatusOr<ItemResult> r = CallMigration(*m, key, value);
      if (!r.ok()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "record '", PrintableKey(key), "' cannot be read at v", to_,
            ": migration '", m->name(), "' (step ", step.Describe(),
            ") failed on it: ", r.status().message()));
      }
      if (r->kind() == ItemResult::Kind::kDelete) return std::optional<std::string>();
      if (r->kind() == ItemResult::Kind::kWrite) value = r->release_value();
      break;  // One migration per prefix in a step.
    }
  }
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<std::string> UpgradingReader::Get(
    const rocksdb::ReadOptions& options, std::string_view key) const {
  std::string value;
  rocksdb::Status rs =
      db_->Get(options, rocksdb::Slice(key.data(), key.size()), &value);
  if (rs.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("no record at key '", PrintableKey(key), "'"));
  }
  if (!rs.ok()) {
    return FromRocksDb(rs, absl::StrCat("reading key '", PrintableKey(key), "'"));
  }
  RM_ASSIGN_OR_RETURN(std::optional<std::string> up,
                      Upgrade(key, std::move(value)));
  if (!up) {
    return absl::NotFoundError(absl::StrCat(
        "no record at key '", PrintableKey(key),
        "' (the migration to v", to_, " deletes it)"));
  }
  return std::move(*up);
}

std::unique_ptr<UpgradingIterator> UpgradingReader::NewIterator(
    const rocksdb::ReadOptions& options) const {
  return std::unique_ptr<UpgradingIterator>(new UpgradingIterator(
      this, std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(options))));
}

// --- UpgradingIterator ---

UpgradingIterator::UpgradingIterator(const UpgradingReader* reader,
                                     std::unique_ptr<rocksdb::Iterator> it)
    : reader_(reader), it_(std::move(it)) {}

bool UpgradingIterator::Valid() const { return status_.ok() && it_->Valid(); }

void UpgradingIterator::Settle(bool forward) {
  while (status_.ok() && it_->Valid()) {
    std::string_view k(it_->key().data(), it_->key().size());
    absl::StatusOr<std::optional<std::string>> up =
        reader_->Upgrade(k, it_->value().ToString());
    if (!up.ok()) {
      status_ = up.status();
      return;
    }
    if (up->has_value()) {
      value_ = std::move(**up);
      return;
    }
    if (forward) {
      it_->Next();
    } else {
      it_->Prev();
    }
  }
}

void UpgradingIterator::SeekToFirst() {
  status_ = absl::OkStatus();
  it_->SeekToFirst();
  Settle(true);
}
void UpgradingIterator::SeekToLast() {
  status_ = absl::OkStatus();
  it_->SeekToLast();
  Settle(false);
}
void UpgradingIterator::Seek(std::string_view target) {
  status_ = absl::OkStatus();
  it_->Seek(rocksdb::Slice(target.data(), target.size()));
  Settle(true);
}
void UpgradingIterator::SeekForPrev(std::string_view target) {
  status_ = absl::OkStatus();
  it_->SeekForPrev(rocksdb::Slice(target.data(), target.size()));
  Settle(false);
}
void UpgradingIterator::Next() {
  it_->Next();
  Settle(true);
}
void UpgradingIterator::Prev() {
  it_->Prev();
  Settle(false);
}
std::string_view UpgradingIterator::key() const {
  return std::string_view(it_->key().data(), it_->key().size());
}
std::string_view UpgradingIterator::value() const { return value_; }
absl::Status UpgradingIterator::status() const {
  if (!status_.ok()) return status_;
  if (!it_->status().ok()) return FromRocksDb(it_->status(), "iterating");
  return absl::OkStatus();
}

}  // namespace rocksmigrate
