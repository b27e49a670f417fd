// A migration's down transform seen as a migration of its own: the step
// from to() to from() whose Migrate() is the migration's Down(). What the
// down pass (src/down_pass.cc) and DryRunRollback() run.
#ifndef ROCKSMIGRATE_SRC_DOWN_OF_H_
#define ROCKSMIGRATE_SRC_DOWN_OF_H_

#include <string>
#include <string_view>

#include "rocksmigrate/migration.h"

namespace rocksmigrate {

// `up` must outlive it. Thread-safety: as `up`'s Down().
class DownOf : public Migration {
 public:
  explicit DownOf(const Migration& up) : up_(&up) {}
  int from() const override { return up_->to(); }
  int to() const override { return up_->from(); }
  std::string name() const override { return up_->name(); }
  std::string prefix() const override { return up_->prefix(); }
  bool records_are_json() const override { return up_->records_are_json(); }
  std::string source_file() const override { return up_->source_file(); }
  std::string checksum() const override { return up_->checksum(); }
  absl::StatusOr<ItemResult> Migrate(std::string_view key,
                                     std::string_view value) const override {
    return up_->Down(key, value);
  }

 private:
  const Migration* up_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_DOWN_OF_H_
