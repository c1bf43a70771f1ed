// Micro-benchmarks for access tokens: Sign and Verify per algorithm, next to the raw primitive
// they wrap (libsodium Ed25519, OpenSSL HMAC) so the JOSE overhead (JSON, base64url, checks)
// is visible.
//
//   build/<dir>/server/src/jwt/jwt_benchmark --benchmark_min_time=0.2
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "crypto/crypto.h"
#include "jwt/claims.h"
#include "jwt/jws.h"
#include "jwt/key.h"
#include "jwt/key_lookup.h"

namespace sessiond::jwt {
namespace {

const TimePoint kNow = FromUnixMillis(1795431473000);
constexpr std::string_view kIssuer = "http://127.0.0.1:4100";

boost::json::object SampleClaims() {
  ClaimsInput input;
  input.issuer = kIssuer;
  input.audience = kIssuer;
  input.user_id = "XawuQPtwlZknbXNam1qEJxmemikQfiWl";
  input.session_id = "iRLXZzIY1fscfnwaquup6BSGJWEG49oq";
  input.email = "alice@example.com";
  input.role = "user";
  input.extra["name"] = "Alice";
  input.issued_at = kNow;
  input.jti = "Zm9vYmFyYmF6cXV4MTIzNA";
  return AccessTokenClaims(input);
}

const Key& BenchKey(Algorithm algorithm) {
  static std::array<std::optional<Key>, kAllAlgorithms.size()> keys;
  auto& slot = keys.at(static_cast<std::size_t>(algorithm));
  if (!slot) {
    if (!crypto::Init()) std::abort();
    crypto::SodiumRandom random;
    auto key = Key::Generate(algorithm, random, kNow);
    if (!key) std::abort();
    slot.emplace(std::move(*key));
  }
  return *slot;
}

void BM_Sign(benchmark::State& state, Algorithm algorithm) {
  const Key& key = BenchKey(algorithm);
  const boost::json::object claims = SampleClaims();
  for (auto _ : state) {
    auto token = Sign(key, claims);
    benchmark::DoNotOptimize(token);
  }
}

void BM_Verify(benchmark::State& state, Algorithm algorithm) {
  const Key& key = BenchKey(algorithm);
  const KeyList lookup({key});
  VerifyOptions options;
  options.allowed = {algorithm};
  options.issuer = kIssuer;
  options.audience = kIssuer;
  const std::string token = Sign(key, SampleClaims()).value();
  state.counters["token_bytes"] = static_cast<double>(token.size());
  for (auto _ : state) {
    auto claims = Verify(token, lookup, options, kNow);
    if (!claims) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(claims);
  }
}

BENCHMARK_CAPTURE(BM_Sign, EdDSA, Algorithm::kEdDSA);
BENCHMARK_CAPTURE(BM_Sign, ES256, Algorithm::kES256);
BENCHMARK_CAPTURE(BM_Sign, RS256, Algorithm::kRS256);
BENCHMARK_CAPTURE(BM_Sign, HS256, Algorithm::kHS256);
BENCHMARK_CAPTURE(BM_Verify, EdDSA, Algorithm::kEdDSA);
BENCHMARK_CAPTURE(BM_Verify, ES256, Algorithm::kES256);
BENCHMARK_CAPTURE(BM_Verify, RS256, Algorithm::kRS256);
BENCHMARK_CAPTURE(BM_Verify, HS256, Algorithm::kHS256);

// Baselines: the bare primitives over a token-sized message (~400 bytes).
const std::string kMessage(400, 'm');

void BM_RawSodiumEd25519Sign(benchmark::State& state) {
  if (sodium_init() < 0) std::abort();
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sk{};
  crypto_sign_keypair(pk.data(), sk.data());
  std::array<unsigned char, crypto_sign_BYTES> sig{};
  for (auto _ : state) {
    crypto_sign_detached(sig.data(), nullptr,
                         reinterpret_cast<const unsigned char*>(kMessage.data()), kMessage.size(),
                         sk.data());
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_RawSodiumEd25519Sign);

void BM_RawSodiumEd25519Verify(benchmark::State& state) {
  if (sodium_init() < 0) std::abort();
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sk{};
  crypto_sign_keypair(pk.data(), sk.data());
  std::array<unsigned char, crypto_sign_BYTES> sig{};
  const auto* msg = reinterpret_cast<const unsigned char*>(kMessage.data());
  crypto_sign_detached(sig.data(), nullptr, msg, kMessage.size(), sk.data());
  for (auto _ : state) {
    const int ok = crypto_sign_verify_detached(sig.data(), msg, kMessage.size(), pk.data());
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_RawSodiumEd25519Verify);

void BM_RawOpenSslHmacSha256(benchmark::State& state) {
  const std::string key(32, 'k');
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t mac_len = 0;
  for (auto _ : state) {
    EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
              reinterpret_cast<const unsigned char*>(kMessage.data()), kMessage.size(), mac.data(),
              mac.size(), &mac_len);
    benchmark::DoNotOptimize(mac);
  }
}
BENCHMARK(BM_RawOpenSslHmacSha256);

// The cached-context wrapper HS256 actually uses.
void BM_CryptoHmacSha256(benchmark::State& state) {
  const std::string key(32, 'k');
  for (auto _ : state) {
    auto mac = crypto::HmacSha256(key, kMessage);
    benchmark::DoNotOptimize(mac);
  }
}
BENCHMARK(BM_CryptoHmacSha256);

}  // namespace
}  // namespace sessiond::jwt

BENCHMARK_MAIN();
