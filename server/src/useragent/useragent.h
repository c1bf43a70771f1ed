// User-agent parsing with uap-core's rules (Debian package uap-core, regexes.yaml), into the
// structure Agnost records for a session. Sessions parse their User-Agent once, when created.
//
// Rules: regexes.yaml is turned into C++ at BUILD time (gen_uap.py, with Debian's python3-yaml)
// and compiled into this library as constexpr data, so the server reads no file and parses no
// YAML at run time, needs no YAML library, and cannot start with rules other than those its
// tests ran against. The price: a uap-core upgrade takes effect at the next build, not the next
// restart; the rules change a few times a year, and a rebuild re-runs the conformance tests.
//
// Engine: Boost.Regex (perl syntax); std::regex is several times slower. Each of the ~1,160
// regexes is compiled the first time an input passes its literal check (below), not at
// start-up: compiling them all costs ~4.5 MB of heap and ~10 ms, and common browsers reach a
// few hundred (~2 MB). A regex that fails to compile (none does with uap-core 0.16) never
// matches. Before running a rule's regex, Parse checks that the input contains a literal every
// match must contain (worked out by gen_uap.py), which skips most rules cheaply: ~0.2 ms for a
// browser string once its rules are compiled (optimised), ~0.1 us for a repeat from
// Default()'s cache.
//
// Semantics follow uap-core's docs/specification.md and its reference parser (uap-python), and
// pass all of uap-core's tests (tests/test_ua.yaml, test_os.yaml, test_device.yaml): each list
// is tried in order and the first matching rule wins; $1..$9 in a replacement take the rule's
// capture groups (a missing group is ""); the user-agent family defaults to group 1 (its
// replacement substitutes $1 only) and major/minor/patch to groups 2..4; OS family/major/minor/
// patch default to groups 1..4; device family and model default to group 1, brand to nothing;
// OS and device values are trimmed; no matching rule gives family "Other" and empty fields.
// uap-core's patch_minor is not kept. An empty field means unknown.
//
// The routes layer renders a UserAgent as Agnost's JSON shape, as an extra session field
// (Better Auth's own fields keep their names):
//   {"family": ..., "major": ..., "minor": ..., "patch": ...,
//    "device": {"family": ..., "brand": ..., "model": ...},
//    "os": {"family": ..., "major": ..., "minor": ..., "patch": ...}}
// every value a JSON string, "" when unknown (versions can be non-numeric, e.g. "1pre").
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace sessiond::useragent {

// A version triple, for callers that want one; UserAgent and Os keep the fields flat, as
// Agnost's JSON does.
struct Version {
  std::string major, minor, patch;

  friend bool operator==(const Version&, const Version&) = default;
};

struct Device {
  std::string family;  // "Other" when no rule matched, e.g. "iPhone", "Spider", "Samsung SM-G991B".
  std::string brand;   // e.g. "Apple"; empty when unknown.
  std::string model;   // e.g. "iPhone"; empty when unknown.

  friend bool operator==(const Device&, const Device&) = default;
};

struct Os {
  std::string family;  // "Other" when no rule matched, e.g. "Windows", "iOS", "Android".
  std::string major, minor, patch;

  friend bool operator==(const Os&, const Os&) = default;
};

struct UserAgent {
  std::string family;  // "Other" when no rule matched, e.g. "Chrome", "Mobile Safari", "curl".
  std::string major, minor, patch;
  Device device;
  Os os;

  friend bool operator==(const UserAgent&, const UserAgent&) = default;
};

// Thread-safe: Parse may be called concurrently on one Parser.
class Parser {
 public:
  // Inputs are cut to this many bytes (at a UTF-8 boundary) before matching, so no input can
  // make the regexes run long; the store cuts user agents to session.maxUserAgentLength (512 by
  // default) anyway.
  static constexpr std::size_t kMaxInputBytes = 512;
  // Default()'s cache size: results for this many distinct user agents are kept (LRU).
  static constexpr std::size_t kDefaultCacheEntries = 256;

  // A parser with an LRU cache of `cache_entries` results (0: no cache). The compiled rules
  // are shared by every Parser in the process.
  explicit Parser(std::size_t cache_entries = kDefaultCacheEntries);
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // The process-wide parser.
  [[nodiscard]] static const Parser& Default();

  // Never fails: a string nothing matches, the empty string included, gives "Other" families
  // and empty versions. If `ua` is valid UTF-8, so is every field of the result.
  [[nodiscard]] UserAgent Parse(std::string_view ua) const noexcept;

 private:
  struct Cache;
  std::unique_ptr<Cache> cache_;
};

}  // namespace sessiond::useragent
