// Unit tests of src/keys.h: prefix bounds, reserved ranges, backup keys.
#include "src/keys.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rocksmigrate {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

TEST(PrefixSuccessorTest, IncrementsTheLastByte) {
  EXPECT_THAT(PrefixSuccessor("task:"), Optional(std::string("task;")));
  EXPECT_THAT(PrefixSuccessor("a"), Optional(std::string("b")));
}

TEST(PrefixSuccessorTest, DropsTrailingFfBytes) {
  EXPECT_THAT(PrefixSuccessor(std::string("a\xff\xff", 3)),
              Optional(std::string("b")));
  EXPECT_THAT(PrefixSuccessor(std::string("a\xfe\xff", 3)),
              Optional(std::string("a\xff", 2)));
}

TEST(PrefixSuccessorTest, HasNoBoundForEmptyOrAllFfPrefix) {
  EXPECT_EQ(PrefixSuccessor(""), std::nullopt);
  EXPECT_EQ(PrefixSuccessor(std::string("\xff", 1)), std::nullopt);
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff\xff", 3)), std::nullopt);
}

TEST(PrefixSuccessorTest, HandlesZeroBytes) {
  EXPECT_THAT(PrefixSuccessor(std::string("k\0", 2)),
              Optional(std::string("k\x01", 2)));
}

TEST(UserRangesTest, NonEmptyPrefixIsOneRange) {
  auto ranges = UserRanges("task:");
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].begin, "task:");
  EXPECT_THAT(ranges[0].end, Optional(std::string("task;")));
}

TEST(UserRangesTest, EmptyPrefixExcludesExactlyTheReservedRange) {
  auto ranges = UserRanges("");
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].begin, "");
  EXPECT_THAT(ranges[0].end, Optional(std::string("_")));
  EXPECT_EQ(ranges[1].begin, "`");
  EXPECT_EQ(ranges[1].end, std::nullopt);
  // Every key starting with '_' lies between the two ranges, and "^" and
  // "`" (its neighbours) lie inside them.
  EXPECT_LT(std::string("^zzz"), *ranges[0].end);
  EXPECT_GE(std::string("_"), *ranges[0].end);
  EXPECT_LT(std::string("_\xff\xff", 3), ranges[1].begin);
}

TEST(BackupKeysTest, RecordKeyAndRange) {
  const std::string id = "_backup_20261127_050102";
  EXPECT_EQ(BackupRecordKey(id, std::string("a\0b", 3)),
            std::string("_backup_20261127_050102:a\0b", 27));
  KeyRange r = BackupRecordRange(id);
  EXPECT_EQ(r.begin, id + ":");
  EXPECT_THAT(r.end, Optional(id + ";"));
  // The records of "_N" ids never fall into the range of the plain id.
  EXPECT_FALSE(id + "_2:x" >= r.begin && id + "_2:x" < *r.end);
  EXPECT_TRUE(id + ":\xff\xff" >= r.begin && id + ":\xff\xff" < *r.end);
}

TEST(HexTest, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string hex = HexEncode(all);
  EXPECT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 6), "000102");
  EXPECT_EQ(hex.substr(506), "fdfeff");
  EXPECT_THAT(HexDecode(hex), Optional(all));
}

TEST(HexTest, RejectsOddLengthAndNonHex) {
  EXPECT_EQ(HexDecode("abc"), std::nullopt);
  EXPECT_EQ(HexDecode("zz"), std::nullopt);
  EXPECT_THAT(HexDecode(""), Optional(std::string()));
}

TEST(PrintableKeyTest, EscapesNonPrintableBytesAndBackslash) {
  EXPECT_EQ(PrintableKey(std::string("a\0\xff\\b", 5)), "a\\x00\\xff\\x5cb");
  EXPECT_EQ(PrintableKey("task:1"), "task:1");
}

}  // namespace
}  // namespace rocksmigrate
