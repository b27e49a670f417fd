// SHA-256 digests: as lowercase hex, for the checksums of migration files
// recorded in the history (SPEC §3); raw, for the digests an online step
// keeps of what it wrote.
#ifndef ROCKSMIGRATE_SRC_SHA256_H_
#define ROCKSMIGRATE_SRC_SHA256_H_

#include <string>
#include <string_view>

namespace rocksmigrate {

// Returns the SHA-256 of `bytes` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);
// The same digest as 32 raw bytes.
std::string Sha256Raw(std::string_view bytes);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_SHA256_H_
