// SHA-256 digests as lowercase hex, for the checksums of migration files
// recorded in the history (SPEC §3).
#ifndef ROCKSMIGRATE_SRC_SHA256_H_
#define ROCKSMIGRATE_SRC_SHA256_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace rocksmigrate {

// Returns the SHA-256 of `bytes` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);

// Returns the SHA-256 of the file at `path` as 64 lowercase hex digits, or
// NotFound / Internal when the file cannot be read.
absl::StatusOr<std::string> Sha256HexOfFile(const std::string& path);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_SHA256_H_
