// Backup management and the repairs: the ways out of every refusal that the
// preflight can give (README, "When something is wrong").
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "rocksmigrate/status_macros.h"
#include "src/fault_point.h"
#include "src/keys.h"
#include "src/lease.h"
#include "src/metadata.h"
#include "src/migrator_impl.h"

namespace rocksmigrate {
namespace {

absl::Status NotABackupId(const std::string& id) {
  return absl::InvalidArgumentError(absl::StrCat(
      "'", PrintableKey(id), "' is not a backup id (expected "
      "_backup_YYYYMMDD_HHMMSS or _backup_YYYYMMDD_HHMMSS_N)"));
}

// The listed backup with `id`, readable or not; NotFound if none.
absl::StatusOr<BackupInfo> FindListed(const BackupStore& backups,
                                      const std::string& id) {
  RM_ASSIGN_OR_RETURN(std::vector<BackupInfo> all, backups.List());
  for (BackupInfo& b : all) {
    if (b.id == id) return std::move(b);
  }
  return absl::NotFoundError(absl::StrCat("no backup ", id));
}

}  // namespace

absl::StatusOr<BackupVerification> Migrator::Impl::VerifyBackup(
    const std::string& id) const {
  if (!IsBackupId(id)) return NotABackupId(id);
  RM_ASSIGN_OR_RETURN(BackupInfo info, FindListed(backups_, id));
  if (!info.readable) {
    BackupVerification v;
    v.backup = info;
    v.status = absl::DataLossError(absl::StrCat(
        "backup ", id, " cannot be verified: ", info.problem));
    return v;
  }
  if (!info.complete) {
    // The backup of a step in flight (or of one whose run was lost): the
    // cursor says how many records it holds, when it is there.
    uint64_t expected = info.item_count;
    absl::StatusOr<std::optional<Cursor>> cursor = meta_.ReadCursor();
    if (cursor.ok() && *cursor && (*cursor)->info.backup_id == id) {
      expected = (*cursor)->info.items_migrated;
      RM_ASSIGN_OR_RETURN(BackupVerification v, backups_.Verify(info, expected));
      return v;
    }
    RM_ASSIGN_OR_RETURN(BackupVerification v, backups_.Verify(info, expected));
    v.status = absl::DataLossError(absl::StrCat(
        "backup ", id, " is incomplete and no run in flight owns it (",
        v.records_present, " records); it cannot be rolled back to"));
    return v;
  }
  return backups_.Verify(info, info.item_count);
}

absl::Status Migrator::Impl::DeleteBackup(const std::string& id, bool force) {
  if (!IsBackupId(id)) return NotABackupId(id);
  RM_ASSIGN_OR_RETURN(std::unique_ptr<Lease> lease,
                      Lease::Acquire(&meta_, options_.lock_wait));
  absl::StatusOr<std::optional<Cursor>> cursor = meta_.ReadCursor();
  if (!cursor.ok() && !force) return cursor.status();
  if (cursor.ok() && *cursor && (*cursor)->info.backup_id == id) {
    return absl::FailedPreconditionError(absl::StrCat(
        "backup ", id, " belongs to the run in flight (", (*cursor)->info.run_id,
        "); finish or abandon that run first; nothing was written"));
  }
  RM_ASSIGN_OR_RETURN(BackupInfo info, FindListed(backups_, id));
  if (!info.readable && !force) {
    absl::Status s = absl::FailedPreconditionError(absl::StrCat(
        "backup ", id, "'s manifest is unreadable (", info.problem,
        "), so what it holds is unknown; deleting it needs force; nothing "
        "was written"));
    return s;
  }
  RM_ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * cf,
                      backups_.Resolve(info.column_family));
  RM_RETURN_IF_ERROR(lease->Record(options_.clock()));
  rocksdb::WriteBatch wb;
  backups_.StageDelete(&wb, cf, id);
  return meta_.Commit(&wb, absl::StrCat("deleting backup ", id));
}

absl::StatusOr<std::vector<std::string>> Migrator::Impl::PruneBackups(
    const RetentionPolicy& policy) {
  if (policy.older_than && *policy.older_than < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "RetentionPolicy::older_than must not be negative; nothing was "
        "deleted");
  }
  const size_t keep = policy.keep;
  const absl::Time now = options_.clock();
  RM_ASSIGN_OR_RETURN(std::unique_ptr<Lease> lease,
                      Lease::Acquire(&meta_, options_.lock_wait));
  RM_ASSIGN_OR_RETURN(std::optional<Cursor> cursor, meta_.ReadCursor());
  RM_ASSIGN_OR_RETURN(std::vector<BackupInfo> list, backups_.List());
  std::vector<const BackupInfo*> readable;
  for (const BackupInfo& b : list) {
    if (b.readable) readable.push_back(&b);  // Unreadable: never pruned.
  }
  std::vector<std::string> deleted;
  if (readable.size() <= keep) return deleted;
  const size_t drop = readable.size() - keep;  // Oldest first.
  for (size_t i = 0; i < drop; ++i) {
    const BackupInfo& b = *readable[i];
    if (cursor && cursor->info.backup_id == b.id) continue;  // In use.
    if (policy.older_than) {
      const std::optional<absl::Time> created = ParseIsoTime(b.created_at);
      if (!created || now - *created <= *policy.older_than) {
        continue;  // Young enough, or of an unknown age: kept.
      }
    }
    if (!deleted.empty()) FaultPoint("prune_between");
    RM_ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * cf,
                        backups_.Resolve(b.column_family));
    RM_RETURN_IF_ERROR(lease->Record(options_.clock()));
    rocksdb::WriteBatch wb;
    backups_.StageDelete(&wb, cf, b.id);
    RM_RETURN_IF_ERROR(meta_.Commit(&wb, absl::StrCat("deleting backup ", b.id)));
    deleted.push_back(b.id);
  }
  return deleted;
}

absl::Status Migrator::Impl::RemoveBookkeepingKey(const std::string& key) {
  if (!IsRepairableKey(key)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", PrintableKey(key), "' is not a bookkeeping key a repair removes "
        "(_schema_version, _migration_progress, _migration_lock, "
        "_migration_history or one _migration_history:N entry; a backup is "
        "deleted as a backup)"));
  }
  RM_ASSIGN_OR_RETURN(std::unique_ptr<Lease> lease,
                      Lease::Acquire(&meta_, options_.lock_wait));
  const bool whole_history = key == kHistoryKey;
  RM_ASSIGN_OR_RETURN(std::optional<std::string> value, meta_.Get(key));
  bool has_entries = false;
  if (whole_history) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    it->Seek(kHistoryEntryPrefix);
    has_entries = it->Valid() &&
                  it->key().starts_with(kHistoryEntryPrefix);
  }
  if (!value && !has_entries) {
    return absl::NotFoundError(
        absl::StrCat("bookkeeping key ", PrintableKey(key), " is absent"));
  }
  rocksdb::WriteBatch wb;
  if (std::optional<uint64_t> seq = HistoryEntrySeq(key)) {
    RM_RETURN_IF_ERROR(history_.StageRemoveEntry(&wb, *seq));
  } else {
    wb.Delete(key);
  }
  if (whole_history) {
    std::string end = kHistoryEntryPrefix;
    end.back() = ';';
    wb.DeleteRange(kHistoryEntryPrefix, end);
  }
  if (key != kLockKey) RM_RETURN_IF_ERROR(lease->Record(options_.clock()));
  return meta_.Commit(&wb, absl::StrCat("removing ", PrintableKey(key)));
}

absl::Status Migrator::Impl::SetSchemaVersion(int version) {
  if (version < 0 || version > kMaxVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a schema version is between 0 and ", kMaxVersion));
  }
  RM_ASSIGN_OR_RETURN(std::unique_ptr<Lease> lease,
                      Lease::Acquire(&meta_, options_.lock_wait));
  // The version may be the damaged key: read everything but it strictly.
  absl::StatusOr<std::optional<int>> stored = meta_.ReadVersion();
  RM_ASSIGN_OR_RETURN(std::optional<Cursor> cursor, meta_.ReadCursor());
  if (cursor) {
    return absl::FailedPreconditionError(absl::StrCat(
        "run ", cursor->info.run_id, " is in flight; finish or abandon it "
        "before setting the version; nothing was written"));
  }
  RM_ASSIGN_OR_RETURN(HistoryStore::Layout layout, history_.ReadLayout());
  RM_RETURN_IF_ERROR(lease->Record(options_.clock()));
  RM_RETURN_IF_ERROR(ConvertLegacyHistory());
  // The stamp goes from where the history left the database (a repair of a
  // damaged version to the history's own version is "vN -> vN", which a
  // rollback passes over), else from the stored version, else from itself.
  int from = version;
  if (stored.ok() && *stored) from = **stored;
  RM_RETURN_IF_ERROR(history_.ForEach(
      [&](const HistoryEntry& e) {
        if (e.status != StepStatus::kSuccess &&
            e.status != StepStatus::kStamped) {
          return true;
        }
        from = e.to;
        return false;
      },
      /*newest_first=*/true));
  (void)layout;
  RunReport report;
  return Stamp(from, version, NewRunId(), &report);
}

}  // namespace rocksmigrate
