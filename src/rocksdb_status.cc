#include "src/rocksdb_status.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace rocksmigrate {

absl::Status FromRocksDb(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = context.empty()
                        ? s.ToString()
                        : absl::StrCat(std::string(context), ": ", s.ToString());
  switch (s.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(msg);
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(msg);
    case rocksdb::Status::kNotSupported:
      return absl::UnimplementedError(msg);
    case rocksdb::Status::kInvalidArgument:
      return absl::InvalidArgumentError(msg);
    case rocksdb::Status::kIOError:
      if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
      // An I/O error is a failure of the run, not a refusal: exit 1.
      return absl::InternalError(msg);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kTryAgain:
      return absl::DeadlineExceededError(msg);
    case rocksdb::Status::kAborted:
      // Not Aborted: our callers give Aborted one meaning (an item error,
      // the step restored), and RocksDB's abort is no such thing.
      return absl::InternalError(msg);
    default:
      return absl::InternalError(msg);
  }
}

}  // namespace rocksmigrate
