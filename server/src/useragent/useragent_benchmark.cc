// Parse() cost. Sessions parse their User-Agent once, at creation, so this is a per-sign-in
// cost. The baseline is one precompiled Boost regex_search: Parse runs up to ~1,160 of them
// (fewer thanks to the literal prefilter, see gen_uap.py), so the ratio shows how many regexes
// a string really costs.
//
//   build/<dir>/server/src/useragent/useragent_benchmark --benchmark_min_time=0.1
#include "useragent/useragent.h"

#include <benchmark/benchmark.h>
#include <boost/regex.hpp>

#include <string>

#include "useragent/rules.h"

namespace sessiond::useragent {
namespace {

const std::string kChrome =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";
const std::string kIphone =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.2 Mobile/15E148 Safari/604.1";

// Uncached: the cost of the first session from a given browser.
void BM_ParseChrome(benchmark::State& state) {
  const Parser parser(0);
  for (auto _ : state) benchmark::DoNotOptimize(parser.Parse(kChrome));
}
BENCHMARK(BM_ParseChrome);

void BM_ParseIphone(benchmark::State& state) {
  const Parser parser(0);
  for (auto _ : state) benchmark::DoNotOptimize(parser.Parse(kIphone));
}
BENCHMARK(BM_ParseIphone);

void BM_ParseCurl(benchmark::State& state) {
  const Parser parser(0);
  for (auto _ : state) benchmark::DoNotOptimize(parser.Parse("curl/8.4.0"));
}
BENCHMARK(BM_ParseCurl);

// The slowest 512-byte shape found (of a few dozen tried): "; " repeated.
void BM_ParseWorstCase(benchmark::State& state) {
  const Parser parser(0);
  std::string input;
  while (input.size() < Parser::kMaxInputBytes) input += "; ";
  for (auto _ : state) benchmark::DoNotOptimize(parser.Parse(input));
}
BENCHMARK(BM_ParseWorstCase);

// A cache hit: later sessions from the same browser.
void BM_ParseChromeCached(benchmark::State& state) {
  const Parser& parser = Parser::Default();
  for (auto _ : state) benchmark::DoNotOptimize(parser.Parse(kChrome));
}
BENCHMARK(BM_ParseChromeCached);

// Baseline: the one regex that decides Chrome's family, precompiled, alone.
void BM_RawBoostRegexSearch(benchmark::State& state) {
  const boost::regex re(R"((Chromium|Chrome)/(\d+)\.(\d+)(?:\.(\d+)|)(?:\.(\d+)|))",
                        boost::regex::perl);
  boost::smatch m;
  for (auto _ : state) benchmark::DoNotOptimize(boost::regex_search(kChrome, m, re));
}
BENCHMARK(BM_RawBoostRegexSearch);

// Compiling every rule: what eager compilation would cost at start-up (rules are compiled
// lazily, each on its first use).
void BM_CompileAllRules(benchmark::State& state) {
  const auto flags = boost::regex::perl | boost::regex::no_mod_m | boost::regex::no_mod_s;
  for (auto _ : state) {
    for (const auto& r : internal::UaRules()) {
      benchmark::DoNotOptimize(boost::regex(r.regex.begin(), r.regex.end(), flags));
    }
    for (const auto& r : internal::OsRules()) {
      benchmark::DoNotOptimize(boost::regex(r.regex.begin(), r.regex.end(), flags));
    }
    for (const auto& r : internal::DeviceRules()) {
      benchmark::DoNotOptimize(boost::regex(r.regex.begin(), r.regex.end(),
                                            r.icase ? flags | boost::regex::icase : flags));
    }
  }
}
BENCHMARK(BM_CompileAllRules)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sessiond::useragent

BENCHMARK_MAIN();
