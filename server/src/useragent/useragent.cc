#include "useragent/useragent.h"

#include <boost/regex.hpp>

#include <algorithm>
#include <list>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "useragent/rules.h"

namespace sessiond::useragent {
namespace {

using internal::DeviceRule;
using internal::OsRule;
using internal::UaRule;
using Match = boost::match_results<std::string_view::const_iterator>;

constexpr std::string_view kOther = "Other";

// Python's re (uap-core's reference) semantics: ^ and $ anchor at the ends of the input only,
// and . does not match a newline.
constexpr auto kSyntax = boost::regex::perl | boost::regex::no_mod_m | boost::regex::no_mod_s;

// A rule and its regex, compiled the first time an input passes the rule's literal check
// (MayMatch). Compiling all ~1,160 rules up front cost ~4.5 MB of heap and ~10 ms at start-up;
// common browsers reach a few hundred (mostly device rules whose only literal is ";"), so memory
// follows the user agents actually seen.
template <class Rule>
struct Compiled {
  const Rule* rule = nullptr;
  mutable std::once_flag once;
  mutable std::optional<boost::regex> re;  // Empty when the pattern did not compile.

  // The compiled regex, or nullptr when the pattern does not compile (it never matches).
  // Thread-safe: concurrent first callers wait for one compilation.
  [[nodiscard]] const boost::regex* Regex() const {
    std::call_once(once, [this] {
      auto flags = kSyntax;
      if constexpr (std::is_same_v<Rule, DeviceRule>) {
        if (rule->icase) flags |= boost::regex::icase;
      }
      try {
        re.emplace(rule->regex.begin(), rule->regex.end(), flags);
      } catch (const std::runtime_error&) {  // boost::regex_error: Boost.Regex throws.
      }
    });
    return re ? &*re : nullptr;
  }
};

// One list of rules, in regexes.yaml's order. Built in place and never resized: its elements
// cannot move (once_flag cannot).
template <class Rule>
using RuleList = std::vector<Compiled<Rule>>;

template <class Rule>
RuleList<Rule> MakeList(std::span<const Rule> rules) {
  RuleList<Rule> list(rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i) list[i].rule = &rules[i];
  return list;
}

struct CompiledRules {
  RuleList<UaRule> ua = MakeList(internal::UaRules());
  RuleList<OsRule> os = MakeList(internal::OsRules());
  RuleList<DeviceRule> device = MakeList(internal::DeviceRules());
};

// Made once per process, on first use (a function-local static: thread-safe). Never destroyed:
// Parse may run during static destruction.
const CompiledRules& Rules() {
  static const CompiledRules* const rules = new CompiledRules;
  return *rules;
}

[[nodiscard]] bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Drops a partial UTF-8 sequence from either end of `s` (a capture or a cut can split one), so
// that pieces of valid UTF-8 stay valid.
[[nodiscard]] std::string_view WholeCharacters(std::string_view s) {
  std::size_t begin = 0;
  while (begin < s.size() && IsContinuation(s[begin])) ++begin;
  std::size_t lead = s.size();  // Start of the last character.
  while (lead > begin && s.size() - lead < 4 && IsContinuation(s[lead - 1])) --lead;
  if (lead > begin) {
    --lead;
    const auto c = static_cast<unsigned char>(s[lead]);
    const std::size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (s.size() - lead < need) return s.substr(begin, lead - begin);
  }
  return s.substr(begin);
}

// Group `i` of `m`, or "" when the rule has no such group or it did not take part.
[[nodiscard]] std::string_view Group(const Match& m, int i) {
  if (static_cast<std::size_t>(i) >= m.size() || !m[i].matched) return {};
  return WholeCharacters(std::string_view(m[i].first, m[i].second));
}

[[nodiscard]] std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  const std::size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// A replacement template: $1..$9 become the groups of `m`, the result is trimmed (uap-core's
// rule for OS and device values).
[[nodiscard]] std::string Expand(std::string_view tmpl, const Match& m) {
  std::string out;
  out.reserve(tmpl.size() + 16);
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '$' && i + 1 < tmpl.size() && tmpl[i + 1] >= '1' && tmpl[i + 1] <= '9') {
      out += Group(m, tmpl[i + 1] - '0');
      ++i;
    } else {
      out += tmpl[i];
    }
  }
  const std::string_view trimmed = Trim(out);
  if (trimmed.size() == out.size()) return out;
  return std::string(trimmed);
}

[[nodiscard]] char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

// Whether `input` contains the rule's required literal (gen_uap.py's required_literal()): if it
// does not, the regex cannot match. Much cheaper than running the regex, which most rules fail.
template <class Rule>
[[nodiscard]] bool MayMatch(const Rule& rule, std::string_view input) {
  if (rule.literal.empty()) return true;
  if constexpr (std::is_same_v<Rule, DeviceRule>) {
    if (rule.icase) {
      const auto same = [](char a, char b) { return AsciiLower(a) == AsciiLower(b); };
      return std::search(input.begin(), input.end(), rule.literal.begin(), rule.literal.end(),
                         same) != input.end();
    }
  }
  return input.find(rule.literal) != std::string_view::npos;
}

// The first rule of `rules` that matches `input`, with its groups in `m`; nullptr if none.
// Throws what Boost.Regex throws when a match gets too complex.
template <class Rule>
[[nodiscard]] const Rule* FirstMatch(const RuleList<Rule>& rules, std::string_view input,
                                     Match& m) {
  for (const Compiled<Rule>& c : rules) {
    if (!MayMatch(*c.rule, input)) continue;
    const boost::regex* re = c.Regex();
    if (re != nullptr && boost::regex_search(input.begin(), input.end(), m, *re)) return c.rule;
  }
  return nullptr;
}

// The user-agent part. Replacements here are uap-core's special case: "$1" in the family is
// group 1, versions are literals, and nothing is trimmed.
void ParseBrowser(std::string_view input, UserAgent& out) {
  Match m;
  const UaRule* rule = FirstMatch(Rules().ua, input, m);
  if (rule == nullptr) return;
  if (rule->family.empty()) {
    out.family = Group(m, 1);
  } else if (const std::size_t at = rule->family.find("$1"); at != std::string_view::npos) {
    out.family = rule->family;
    out.family.replace(at, 2, Group(m, 1));
  } else {
    out.family = rule->family;
  }
  if (out.family.empty()) out.family = kOther;
  out.major = rule->major.empty() ? Group(m, 2) : rule->major;
  out.minor = rule->minor.empty() ? Group(m, 3) : rule->minor;
  out.patch = rule->patch.empty() ? Group(m, 4) : rule->patch;
}

[[nodiscard]] std::string_view Or(std::string_view value, std::string_view fallback) {
  return value.empty() ? fallback : value;
}

void ParseOs(std::string_view input, UserAgent& out) {
  Match m;
  const OsRule* rule = FirstMatch(Rules().os, input, m);
  if (rule == nullptr) return;
  out.os.family = Expand(Or(rule->family, "$1"), m);
  if (out.os.family.empty()) out.os.family = kOther;
  out.os.major = Expand(Or(rule->major, "$2"), m);
  out.os.minor = Expand(Or(rule->minor, "$3"), m);
  out.os.patch = Expand(Or(rule->patch, "$4"), m);
}

void ParseDevice(std::string_view input, UserAgent& out) {
  Match m;
  const DeviceRule* rule = FirstMatch(Rules().device, input, m);
  if (rule == nullptr) return;
  out.device.family = Expand(Or(rule->family, "$1"), m);
  if (out.device.family.empty()) out.device.family = kOther;
  out.device.brand = Expand(rule->brand, m);
  out.device.model = Expand(Or(rule->model, "$1"), m);
}

[[nodiscard]] UserAgent Unknown() {
  UserAgent ua;
  ua.family = kOther;
  ua.device.family = kOther;
  ua.os.family = kOther;
  return ua;
}

[[nodiscard]] UserAgent Uncached(std::string_view input) {
  UserAgent out = Unknown();
  for (void (*parse)(std::string_view, UserAgent&) : {&ParseBrowser, &ParseOs, &ParseDevice}) {
    try {
      parse(input, out);
    } catch (const std::runtime_error&) {
      // Boost.Regex throws when a match exceeds its complexity or memory bounds; this is the one
      // place that catches it. It throws from FirstMatch, before the part is written, so the
      // part stays "Other". (std::bad_alloc goes on to Parse.)
    }
  }
  return out;
}

[[nodiscard]] std::string_view Cut(std::string_view ua) {
  if (ua.size() <= Parser::kMaxInputBytes) return ua;
  std::size_t n = Parser::kMaxInputBytes;
  // Don't split a character: back up to the start of the one that straddles the cut.
  while (n > Parser::kMaxInputBytes - 3 && IsContinuation(ua[n])) --n;
  return ua.substr(0, n);
}

}  // namespace

namespace internal {
std::size_t RuleCompileErrors() {
  std::size_t errors = 0;
  const auto count = [&errors](const auto& list) {
    for (const auto& c : list) {
      if (c.Regex() == nullptr) ++errors;
    }
  };
  count(Rules().ua);
  count(Rules().os);
  count(Rules().device);
  return errors;
}
}  // namespace internal

// A bounded LRU map from (cut) user agent to result, most recently used first.
struct Parser::Cache {
  using Entries = std::list<std::pair<std::string, UserAgent>>;

  explicit Cache(std::size_t cap) : capacity(cap) {}

  [[nodiscard]] std::optional<UserAgent> Find(std::string_view key) {
    const std::lock_guard lock(mu);
    const auto it = index.find(key);
    if (it == index.end()) return std::nullopt;
    entries.splice(entries.begin(), entries, it->second);
    return it->second->second;
  }

  void Insert(std::string_view key, const UserAgent& value) {
    const std::lock_guard lock(mu);
    if (index.contains(key)) return;  // Another thread parsed the same string meanwhile.
    entries.emplace_front(std::string(key), value);
    // The key views the list node's string, which never moves.
    index.emplace(entries.front().first, entries.begin());
    if (entries.size() > capacity) {
      index.erase(entries.back().first);
      entries.pop_back();
    }
  }

  const std::size_t capacity;
  std::mutex mu;
  Entries entries;
  std::unordered_map<std::string_view, Entries::iterator> index;
};

Parser::Parser(std::size_t cache_entries)
    : cache_(cache_entries > 0 ? std::make_unique<Cache>(cache_entries) : nullptr) {
  (void)Rules();
}

Parser::~Parser() = default;

const Parser& Parser::Default() {
  static const Parser* const parser = new Parser();  // Never destroyed, like Rules().
  return *parser;
}

UserAgent Parser::Parse(std::string_view ua) const noexcept {
  try {
    const std::string_view input = Cut(ua);
    if (cache_ == nullptr) return Uncached(input);
    if (std::optional<UserAgent> hit = cache_->Find(input)) return *std::move(hit);
    UserAgent result = Uncached(input);
    cache_->Insert(input, result);
    return result;
  } catch (...) {  // std::bad_alloc from a string or the cache: report "unknown", don't throw.
    return Unknown();
  }
}

}  // namespace sessiond::useragent
