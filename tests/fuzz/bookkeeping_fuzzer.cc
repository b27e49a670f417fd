// Fuzz target: every bookkeeping decoder (`_schema_version`, the cursor, a
// history entry, a backup manifest, history and backup keys). Any bytes
// decode or give FailedPrecondition naming the key, never a crash; what
// decodes encodes back to bytes that decode to the same thing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "src/keys.h"
#include "src/metadata.h"
#include "tests/fuzz/fuzz_check.h"

namespace rm = rocksmigrate;

namespace {

void CheckRefusal(const absl::Status& s, const std::string& key) {
  RM_FUZZ_CHECK(absl::IsFailedPrecondition(s));
  RM_FUZZ_CHECK(rm::BookkeepingKeyOf(s) == key);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  if (auto v = rm::DecodeVersion(bytes); v.ok()) {
    RM_FUZZ_CHECK(rm::EncodeVersion(*v) == bytes);
  } else {
    CheckRefusal(v.status(), "_schema_version");
  }

  if (auto c = rm::DecodeCursor(bytes); c.ok()) {
    const std::string once = rm::EncodeCursor(*c);
    auto again = rm::DecodeCursor(once);
    RM_FUZZ_CHECK(again.ok());
    RM_FUZZ_CHECK(rm::EncodeCursor(*again) == once);
  } else {
    CheckRefusal(c.status(), "_migration_progress");
  }

  const std::string entry_key = rm::HistoryEntryKey(7);
  if (auto e = rm::DecodeHistoryEntry(bytes, entry_key); e.ok()) {
    const std::string once = rm::EncodeHistoryEntry(*e);
    auto again = rm::DecodeHistoryEntry(once, entry_key);
    RM_FUZZ_CHECK(again.ok());
    RM_FUZZ_CHECK(rm::EncodeHistoryEntry(*again) == once);
  } else {
    CheckRefusal(e.status(), entry_key);
  }

  const std::string id = "_backup_20261127_050102";
  if (auto b = rm::DecodeManifest(bytes, id); b.ok()) {
    const std::string once = rm::EncodeManifest(*b);
    auto again = rm::DecodeManifest(once, id);
    RM_FUZZ_CHECK(again.ok());
    RM_FUZZ_CHECK(rm::EncodeManifest(*again) == once);
  } else {
    CheckRefusal(b.status(), id);
  }

  // Keys.
  if (auto seq = rm::HistoryEntrySeq(bytes)) {
    RM_FUZZ_CHECK(rm::HistoryEntryKey(*seq) == bytes);
  }
  (void)rm::IsBackupId(bytes);
  (void)rm::IsRepairableKey(bytes);
  if (auto raw = rm::HexDecode(bytes)) {
    RM_FUZZ_CHECK(rm::HexDecode(rm::HexEncode(*raw)) == raw);
  }
  return 0;
}
