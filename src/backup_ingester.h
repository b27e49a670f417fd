// Writes a step's backups into SST files and ingests them into the backup
// column family, ahead of the batches that rewrite those records.
//
// Why: a backup written through the WAL and memtable costs a second WAL
// write, a memtable insert, a flush and then compactions, because flushed
// files span both the backup range and the records' range. An ingested file
// holds only backup keys, which overlap nothing else, so RocksDB places it
// in the bottommost level and never compacts it again. rocksmigrate-bench
// measures the difference (README.md, Performance).
//
// Why it is safe: every backup is ingested (synced, recorded in the
// MANIFEST) before the batch that rewrites its record commits. A crash after
// an ingestion and before those commits leaves backups of records that are
// still original: their backup bytes equal the records', so a restore of
// them changes nothing, and the resumed run backs them up again with the
// same bytes.
#ifndef ROCKSMIGRATE_SRC_BACKUP_INGESTER_H_
#define ROCKSMIGRATE_SRC_BACKUP_INGESTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "rocksdb/sst_file_writer.h"
#include "src/metadata.h"

namespace rocksmigrate {

// Thread-safety: not thread-safe; used by the committing thread only.
class BackupIngester {
 public:
  // Files are written in the database directory (so ingestion can link
  // them instead of copying) and named rocksmigrate-backup-*.sst; leftovers
  // of a crashed run are deleted here.
  explicit BackupIngester(const MetaStore* meta);
  ~BackupIngester();  // Deletes a file not yet ingested.

  // Adds one backup record. REQUIRES: keys strictly increase across calls.
  absl::Status Add(std::string_view key, std::string_view value);
  // Bytes added since the last ingestion.
  uint64_t pending_bytes() const { return pending_bytes_; }
  // Finishes the current file (synced) and ingests it. A no-op when empty.
  absl::Status Ingest();

 private:
  std::string NextPath();

  const MetaStore* meta_;
  std::unique_ptr<rocksdb::SstFileWriter> writer_;
  std::string path_;
  uint64_t pending_bytes_ = 0;
  uint64_t files_ = 0;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_BACKUP_INGESTER_H_
