#include "src/sha256.h"

#include <openssl/evp.h>

#include <memory>

#include "glog/logging.h"

namespace rocksmigrate {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::string ToHex(const unsigned char* digest, unsigned int length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kDigits[digest[i] >> 4]);
    hex.push_back(kDigits[digest[i] & 0xF]);
  }
  return hex;
}

}  // namespace

std::string Sha256Raw(std::string_view bytes) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // These calls fail only on allocation failure or a broken OpenSSL: our
  // programming environment's fault, not the caller's data.
  CHECK(ctx != nullptr);
  CHECK_EQ(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr), 1);
  CHECK_EQ(EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()), 1);
  CHECK_EQ(EVP_DigestFinal_ex(ctx.get(), digest, &length), 1);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Sha256Hex(std::string_view bytes) {
  const std::string raw = Sha256Raw(bytes);
  return ToHex(reinterpret_cast<const unsigned char*>(raw.data()),
               static_cast<unsigned int>(raw.size()));
}

}  // namespace rocksmigrate
