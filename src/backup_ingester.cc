#include "src/backup_ingester.h"

#include <unistd.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/env.h"
#include "src/rocksdb_status.h"

namespace rocksmigrate {
namespace {

constexpr char kFilePrefix[] = "rocksmigrate-backup-";

}  // namespace

BackupIngester::BackupIngester(const MetaStore* meta) : meta_(meta) {
  // Only one migrator runs per database (LOCK file and lease), so any file
  // by our name is a leftover of a run that died before ingesting it.
  rocksdb::Env* env = meta_->db()->GetEnv();
  std::vector<std::string> children;
  if (env->GetChildren(meta_->db()->GetName(), &children).ok()) {
    for (const std::string& name : children) {
      if (absl::StartsWith(name, kFilePrefix)) {
        env->DeleteFile(meta_->db()->GetName() + "/" + name)
            .PermitUncheckedError();
      }
    }
  }
}

BackupIngester::~BackupIngester() {
  if (writer_ != nullptr) {
    writer_.reset();
    meta_->db()->GetEnv()->DeleteFile(path_).PermitUncheckedError();
  }
}

std::string BackupIngester::NextPath() {
  return absl::StrCat(meta_->db()->GetName(), "/", kFilePrefix, getpid(), "-",
                      ++files_, ".sst");
}

absl::Status BackupIngester::Add(std::string_view key, std::string_view value) {
  if (writer_ == nullptr) {
    rocksdb::Options options =
        meta_->db()->GetOptions(meta_->backup_cf());
    writer_ = std::make_unique<rocksdb::SstFileWriter>(
        rocksdb::EnvOptions(options), options, meta_->backup_cf());
    path_ = NextPath();
    rocksdb::Status s = writer_->Open(path_);
    if (!s.ok()) {
      writer_.reset();
      return FromRocksDb(s, absl::StrCat("creating backup file ", path_));
    }
  }
  rocksdb::Status s = writer_->Put(rocksdb::Slice(key.data(), key.size()),
                                   rocksdb::Slice(value.data(), value.size()));
  if (!s.ok()) return FromRocksDb(s, absl::StrCat("writing backup file ", path_));
  pending_bytes_ += key.size() + value.size();
  return absl::OkStatus();
}

absl::Status BackupIngester::Ingest() {
  if (writer_ == nullptr) return absl::OkStatus();
  rocksdb::Status s = writer_->Finish();  // Syncs the file.
  writer_.reset();
  if (!s.ok()) {
    meta_->db()->GetEnv()->DeleteFile(path_).PermitUncheckedError();
    return FromRocksDb(s, absl::StrCat("finishing backup file ", path_));
  }
  rocksdb::IngestExternalFileOptions io;
  io.move_files = true;           // Link, do not copy.
  io.write_global_seqno = false;  // Keep the seqno in the MANIFEST only.
  io.allow_blocking_flush = true;
  s = meta_->db()->IngestExternalFile(meta_->backup_cf(), {path_}, io);
  // With move_files the database holds its own link; ours goes either way.
  meta_->db()->GetEnv()->DeleteFile(path_).PermitUncheckedError();
  pending_bytes_ = 0;
  return FromRocksDb(s, "ingesting backups");
}

}  // namespace rocksmigrate
