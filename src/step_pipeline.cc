#include "src/step_pipeline.h"

#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "src/rocksdb_status.h"

namespace rocksmigrate {

absl::StatusOr<ItemResult> CallMigration(const Migration& migration,
                                         std::string_view key,
                                         std::string_view value) {
  try {
    return migration.Migrate(key, value);
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("migration '", migration.name(), "' threw: ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(
        "migration '", migration.name(), "' threw a non-standard exception"));
  }
}

namespace {

class Pipeline {
 public:
  Pipeline(rocksdb::DB* db, const std::vector<ScanRange>& ranges,
           const PipelineOptions& options,
           const std::function<void(RawBatch&, PreparedBatch*)>& transform)
      : db_(db),
        ranges_(ranges),
        options_(options),
        transform_(transform),
        max_in_flight_(2 * static_cast<size_t>(options.workers) + 2),
        max_bytes_in_flight_(max_in_flight_ * options.batch_bytes) {}

  absl::Status Run(const std::function<absl::Status(PreparedBatch&)>& consume) {
    std::thread reader([this] { ReadAll(); });
    std::vector<std::thread> workers;
    for (int i = 0; i < options_.workers; ++i) {
      workers.emplace_back([this] { Work(); });
    }
    absl::Status result = ConsumeAll(consume);
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    reader.join();
    for (auto& w : workers) w.join();
    return result;
  }

 private:
  // Hands `batch` to the workers; false if the pipeline is stopping.
  bool Issue(RawBatch batch, size_t bytes) {
    absl::MutexLock lock(&mu_);
    auto room = [this, bytes]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (stop_ || issued_ == consumed_) return true;
      return issued_ - consumed_ < max_in_flight_ &&
             bytes_in_flight_ + bytes <= max_bytes_in_flight_;
    };
    mu_.Await(absl::Condition(&room));
    if (stop_) return false;
    batch.seq = issued_++;
    batch_bytes_[batch.seq] = bytes;
    bytes_in_flight_ += bytes;
    raw_.push_back(std::move(batch));
    return true;
  }

  void ReadAll() {
    absl::Status status = ReadRanges();
    absl::MutexLock lock(&mu_);
    read_status_ = status;
    reader_done_ = true;
  }

  absl::Status ReadRanges() {
    rocksdb::ColumnFamilyHandle* cf = options_.column_family != nullptr
                                          ? options_.column_family
                                          : db_->DefaultColumnFamily();
    for (const ScanRange& sr : ranges_) {
      rocksdb::ReadOptions ro;
      rocksdb::Slice upper;
      if (sr.range.end) {
        upper = rocksdb::Slice(*sr.range.end);
        ro.iterate_upper_bound = &upper;
      }
      ro.readahead_size = 2 << 20;
      ro.fill_cache = false;  // A one-pass scan; keep the server's cache.
      std::unique_ptr<rocksdb::Iterator> it;
      // Positions a new iterator on the first key after `after` (or at the
      // range's start).
      auto open_after = [&](const std::optional<std::string>& after) {
        it.reset();  // Unpin before pinning again.
        it.reset(db_->NewIterator(ro, cf));
        if (after) {
          it->Seek(*after);
          if (it->Valid() && it->key() == rocksdb::Slice(*after)) it->Next();
        } else {
          it->Seek(sr.range.begin);
        }
      };
      open_after(sr.after);
      RawBatch batch;
      batch.tag = sr.tag;
      size_t bytes = 0;
      size_t since_refresh = 0;
      std::optional<std::string> last_read = sr.after;
      while (it->Valid()) {
        if (batch.items.empty() && options_.begin_batch) {
          // The batch's transaction first, then an iterator that sees at
          // least what its snapshot sees.
          batch.txn = options_.begin_batch();
          open_after(last_read);
          since_refresh = 0;
          if (!it->Valid()) break;
        }
        size_t item_bytes = it->key().size() + it->value().size();
        if (!batch.items.empty() &&
            (batch.items.size() >= options_.batch_items ||
             bytes + item_bytes > options_.batch_bytes)) {
          bool waited_long = false;
          absl::Status admitted = Admit(batch, bytes, &waited_long);
          if (!admitted.ok()) return admitted;
          if (waited_long) batch.txn.reset();  // Its snapshot is old now.
          if (waited_long && !options_.begin_batch) {
            // `it` stands on the first key after the batch: a new iterator
            // there, so that the wait pinned nothing for longer.
            open_after(batch.items.back().key);
            if (!it->Valid()) {
              if (!Issue(std::move(batch), bytes)) return absl::OkStatus();
              batch = RawBatch();
              break;
            }
            item_bytes = it->key().size() + it->value().size();
          }
          if (!Issue(std::move(batch), bytes)) return absl::OkStatus();
          batch = RawBatch();
          batch.tag = sr.tag;
          bytes = 0;
        }
        batch.items.push_back({it->key().ToString(), it->value().ToString()});
        last_read = batch.items.back().key;
        bytes += item_bytes;
        since_refresh += item_bytes;
        if (since_refresh >= options_.iterator_refresh_bytes) {
          since_refresh = 0;
          open_after(batch.items.back().key);
        } else {
          it->Next();
        }
      }
      if (!it->status().ok()) {
        // Hand over what was read before the error, then report it: the
        // run must never go past a key it could not read.
        std::string where = batch.items.empty()
                                ? PrintableKey(sr.range.begin)
                                : PrintableKey(batch.items.back().key);
        if (!batch.items.empty()) Issue(std::move(batch), bytes);
        return FromRocksDb(it->status(),
                           absl::StrCat("reading records after key '", where,
                                        "'; nothing past it was migrated"));
      }
      if (!batch.items.empty()) {
        bool waited_long = false;
        absl::Status admitted = Admit(batch, bytes, &waited_long);
        if (!admitted.ok()) return admitted;
        if (waited_long) batch.txn.reset();
        if (!Issue(std::move(batch), bytes)) return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

  absl::Status Admit(const RawBatch& batch, size_t bytes, bool* waited_long) {
    if (!options_.admit) return absl::OkStatus();
    return options_.admit(batch.items.size(), bytes, waited_long);
  }

  void Work() {
    while (true) {
      RawBatch raw;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stop_ || !raw_.empty() || reader_done_;
        };
        mu_.Await(absl::Condition(&ready));
        if (stop_ || raw_.empty()) return;  // Stopping, or all read.
        raw = std::move(raw_.front());
        raw_.pop_front();
      }
      PreparedBatch prepared;
      prepared.seq = raw.seq;
      prepared.tag = raw.tag;
      prepared.visited = raw.items.size();
      if (!raw.items.empty()) prepared.last_key = raw.items.back().key;
      transform_(raw, &prepared);
      absl::MutexLock lock(&mu_);
      done_.emplace(prepared.seq, std::move(prepared));
    }
  }

  absl::Status ConsumeAll(
      const std::function<absl::Status(PreparedBatch&)>& consume) {
    while (true) {
      PreparedBatch batch;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return done_.count(consumed_) > 0 ||
                 (reader_done_ && consumed_ == issued_);
        };
        mu_.Await(absl::Condition(&ready));
        auto it = done_.find(consumed_);
        if (it == done_.end()) return read_status_;  // All consumed.
        batch = std::move(it->second);
        done_.erase(it);
      }
      absl::Status s = consume(batch);
      batch = PreparedBatch();  // Free its records before taking more.
      absl::MutexLock lock(&mu_);
      auto size = batch_bytes_.find(consumed_);
      bytes_in_flight_ -= size->second;
      batch_bytes_.erase(size);
      ++consumed_;
      if (!s.ok()) return s;
    }
  }

  rocksdb::DB* db_;
  const std::vector<ScanRange>& ranges_;
  const PipelineOptions& options_;
  const std::function<void(RawBatch&, PreparedBatch*)>& transform_;
  const size_t max_in_flight_;
  const size_t max_bytes_in_flight_;

  absl::Mutex mu_;
  std::deque<RawBatch> raw_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, PreparedBatch> done_ ABSL_GUARDED_BY(mu_);
  uint64_t issued_ ABSL_GUARDED_BY(mu_) = 0;
  // Bytes read by each batch not yet consumed, and their sum.
  std::map<uint64_t, size_t> batch_bytes_ ABSL_GUARDED_BY(mu_);
  size_t bytes_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t consumed_ ABSL_GUARDED_BY(mu_) = 0;
  bool reader_done_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status read_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::Status RunPipeline(
    rocksdb::DB* db, const std::vector<ScanRange>& ranges,
    const PipelineOptions& options,
    const std::function<void(RawBatch&, PreparedBatch*)>& transform,
    const std::function<absl::Status(PreparedBatch&)>& consume) {
  PipelineOptions opts = options;
  if (opts.workers < 1) opts.workers = 1;
  if (opts.batch_items < 1) opts.batch_items = 1;
  if (opts.iterator_refresh_bytes < 1) opts.iterator_refresh_bytes = 1;
  Pipeline pipeline(db, ranges, opts, transform);
  return pipeline.Run(consume);
}

}  // namespace rocksmigrate
