// Micro-benchmarks for the primitives on every request's path. The raw OpenSSL/libsodium
// baselines show what the wrappers cost on top of the library calls.
//
//   build/<dir>/server/src/crypto/crypto_benchmark --benchmark_min_time=0.1
#include "crypto/crypto.h"

#include <benchmark/benchmark.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <string>

#include "crypto/password_hasher.h"

namespace sessiond::crypto {
namespace {

// The shape of a session token: 43 base64url characters.
const std::string kToken = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const std::string kSecret(32, 'k');

void BM_Sha256(benchmark::State& state) {
  for (auto _ : state) {
    Sha256Digest digest = Sha256(kToken);
    benchmark::DoNotOptimize(digest);
  }
}
BENCHMARK(BM_Sha256);

// Baseline: OpenSSL 3's one-shot SHA256(), which fetches the implementation on every call.
void BM_RawOpenSslSha256(benchmark::State& state) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  for (auto _ : state) {
    SHA256(reinterpret_cast<const unsigned char*>(kToken.data()), kToken.size(), digest.data());
    benchmark::DoNotOptimize(digest);
  }
}
BENCHMARK(BM_RawOpenSslSha256);

void BM_HmacSha256(benchmark::State& state) {
  for (auto _ : state) {
    Sha256Digest mac = HmacSha256(kSecret, kToken);
    benchmark::DoNotOptimize(mac);
  }
}
BENCHMARK(BM_HmacSha256);

// Baseline: libsodium's portable HMAC-SHA256 (RFC 4231-compatible for 32-byte keys).
void BM_RawSodiumHmacSha256(benchmark::State& state) {
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  for (auto _ : state) {
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(kSecret.data()),
                                kSecret.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(kToken.data()),
                                  kToken.size());
    crypto_auth_hmacsha256_final(&st, mac.data());
    benchmark::DoNotOptimize(mac);
  }
}
BENCHMARK(BM_RawSodiumHmacSha256);

void BM_ConstantTimeEquals(benchmark::State& state) {
  const std::string a(44, 'x');
  const std::string b(44, 'x');
  for (auto _ : state) {
    bool equal = ConstantTimeEquals(a, b);
    benchmark::DoNotOptimize(equal);
  }
}
BENCHMARK(BM_ConstantTimeEquals);

// Baseline: sodium_memcmp on the same 44 bytes.
void BM_RawSodiumMemcmp(benchmark::State& state) {
  const std::string a(44, 'x');
  const std::string b(44, 'x');
  for (auto _ : state) {
    int result = sodium_memcmp(a.data(), b.data(), a.size());
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_RawSodiumMemcmp);

void BM_Base64Encode(benchmark::State& state) {
  const Sha256Digest mac = HmacSha256(kSecret, kToken);
  for (auto _ : state) {
    std::string encoded = Base64Encode(mac);
    benchmark::DoNotOptimize(encoded);
  }
}
BENCHMARK(BM_Base64Encode);

void BM_Base64UrlDecode(benchmark::State& state) {
  for (auto _ : state) {
    auto decoded = Base64UrlDecode(kToken);
    benchmark::DoNotOptimize(decoded);
  }
}
BENCHMARK(BM_Base64UrlDecode);

void BM_SodiumRandom32(benchmark::State& state) {
  SodiumRandom random;
  std::array<std::uint8_t, 32> bytes{};
  for (auto _ : state) {
    random.Fill(bytes);
    benchmark::DoNotOptimize(bytes);
  }
}
BENCHMARK(BM_SodiumRandom32);

// argon2id at the production (OWASP) parameters: the cost of one sign-up or sign-in.
void BM_PasswordHash(benchmark::State& state) {
  const PasswordHasher hasher(Argon2Params{});
  for (auto _ : state) {
    auto hash = hasher.Hash("correct horse battery staple");
    benchmark::DoNotOptimize(hash);
  }
}
BENCHMARK(BM_PasswordHash)->Unit(benchmark::kMillisecond);

void BM_PasswordVerify(benchmark::State& state) {
  const PasswordHasher hasher(Argon2Params{});
  const std::string hash = hasher.Hash("correct horse battery staple").value_or("");
  for (auto _ : state) {
    bool ok = hasher.Verify(hash, "correct horse battery staple");
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_PasswordVerify)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sessiond::crypto

int main(int argc, char** argv) {
  if (!sessiond::crypto::Init()) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
