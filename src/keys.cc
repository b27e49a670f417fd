#include "src/keys.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rocksmigrate {

std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xFF) {
    s.pop_back();
  }
  if (s.empty()) return std::nullopt;
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

std::vector<KeyRange> UserRanges(std::string_view prefix) {
  if (prefix.empty()) {
    // '_' is 0x5F; '`' is 0x60, the first key past the reserved range.
    return {KeyRange{"", std::string("_")}, KeyRange{"`", std::nullopt}};
  }
  return {KeyRange{std::string(prefix), PrefixSuccessor(prefix)}};
}

std::string BackupRecordKey(std::string_view backup_id, std::string_view key) {
  std::string out;
  out.reserve(backup_id.size() + 1 + key.size());
  out.append(backup_id);
  out.push_back(':');
  out.append(key);
  return out;
}

KeyRange BackupRecordRange(std::string_view backup_id) {
  std::string id(backup_id);
  return KeyRange{id + ":", id + ";"};
}

std::string BackupDigestKey(std::string_view backup_id, std::string_view key) {
  std::string k;
  k.reserve(backup_id.size() + 1 + key.size());
  k.append(backup_id).push_back('#');
  k.append(key);
  return k;
}

KeyRange BackupDigestRange(std::string_view backup_id) {
  std::string id(backup_id);
  return KeyRange{id + "#", id + "$"};
}

bool IsBackupId(std::string_view id) {
  // _backup_YYYYMMDD_HHMMSS[_N]
  constexpr size_t kPrefixLen = sizeof(kBackupPrefix) - 1;
  constexpr size_t kStampLen = kPrefixLen + 15;  // + "YYYYMMDD_HHMMSS"
  if (id.size() < kStampLen || id.substr(0, kPrefixLen) != kBackupPrefix) {
    return false;
  }
  for (size_t i = kPrefixLen; i < kStampLen; ++i) {
    bool digit = id[i] >= '0' && id[i] <= '9';
    if (i == kPrefixLen + 8 ? id[i] != '_' : !digit) return false;
  }
  if (id.size() == kStampLen) return true;
  if (id[kStampLen] != '_' || id.size() == kStampLen + 1 ||
      id.size() > kStampLen + 10 || id[kStampLen + 1] == '0') {
    return false;
  }
  for (size_t i = kStampLen + 1; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return false;
  }
  return true;
}

std::string HistoryEntryKey(uint64_t seq) {
  return absl::StrFormat("%s%020u", kHistoryEntryPrefix, seq);
}

std::optional<uint64_t> HistoryEntrySeq(std::string_view key) {
  constexpr size_t kPrefixLen = sizeof(kHistoryEntryPrefix) - 1;
  if (key.size() != kPrefixLen + 20 ||
      key.substr(0, kPrefixLen) != kHistoryEntryPrefix) {
    return std::nullopt;
  }
  uint64_t seq = 0;
  for (char c : key.substr(kPrefixLen)) {
    if (c < '0' || c > '9') return std::nullopt;
    if (seq > (UINT64_MAX - 9) / 10) return std::nullopt;
    seq = seq * 10 + static_cast<uint64_t>(c - '0');
  }
  return seq;
}

bool IsRepairableKey(std::string_view key) {
  return key == kSchemaVersionKey || key == kProgressKey || key == kLockKey ||
         key == kHistoryKey || HistoryEntrySeq(key).has_value();
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string PrintableKey(std::string_view key) {
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    }
  }
  return out;
}

}  // namespace rocksmigrate
