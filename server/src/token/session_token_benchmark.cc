// Micro-benchmarks for the per-request token work: verifying the cookie's signature and
// hashing the token for the store lookup.
//
//   build/<dir>/server/src/token/token_benchmark --benchmark_min_time=0.1
#include "token/session_token.h"

#include <benchmark/benchmark.h>

#include <string>

#include "crypto/crypto.h"

namespace sessiond::token {
namespace {

const std::string kSecret = "sessiond-benchmark-secret-32-chars-long";

void BM_NewSessionToken(benchmark::State& state) {
  crypto::SodiumRandom random;
  for (auto _ : state) {
    std::string token = NewSessionToken(random);
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_NewSessionToken);

void BM_HashSessionToken(benchmark::State& state) {
  crypto::SodiumRandom random;
  const std::string token = NewSessionToken(random);
  for (auto _ : state) {
    std::string hash = HashSessionToken(token);
    benchmark::DoNotOptimize(hash);
  }
}
BENCHMARK(BM_HashSessionToken);

void BM_TokenSignerSign(benchmark::State& state) {
  crypto::SodiumRandom random;
  const TokenSigner signer{kSecret};
  const std::string token = NewSessionToken(random);
  for (auto _ : state) {
    std::string signed_value = signer.Sign(token);
    benchmark::DoNotOptimize(signed_value);
  }
}
BENCHMARK(BM_TokenSignerSign);

void BM_TokenSignerVerifyValid(benchmark::State& state) {
  crypto::SodiumRandom random;
  const TokenSigner signer{kSecret};
  const std::string signed_value = signer.Sign(NewSessionToken(random));
  for (auto _ : state) {
    auto token = signer.Verify(signed_value);
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_TokenSignerVerifyValid);

// A well-formed value with a wrong signature: the full HMAC still runs.
void BM_TokenSignerVerifyInvalidSignature(benchmark::State& state) {
  crypto::SodiumRandom random;
  const TokenSigner signer{kSecret};
  std::string forged = signer.Sign(NewSessionToken(random));
  forged[forged.size() - 2] = forged[forged.size() - 2] == 'A' ? 'B' : 'A';
  for (auto _ : state) {
    auto token = signer.Verify(forged);
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_TokenSignerVerifyInvalidSignature);

// Malformed input is rejected on shape alone, before any HMAC.
void BM_TokenSignerVerifyMalformed(benchmark::State& state) {
  const TokenSigner signer{kSecret};
  const std::string garbage(87, 'x');
  for (auto _ : state) {
    auto token = signer.Verify(garbage);
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_TokenSignerVerifyMalformed);

}  // namespace
}  // namespace sessiond::token

int main(int argc, char** argv) {
  if (!sessiond::crypto::Init()) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
