// Rate-limit rules: which requests a limit applies to, how many it allows in what window, and
// what it counts by (client IP or account). Plus the text form used in configuration.
//
// Text form (fits a TOML array of strings, or one comma-separated env var):
//
//   <path-pattern>=<max>/<window>[:ip]     per client IP, e.g. "/api/auth/sign-in/*=10/60s"
//   account:<name>=<max>/<window>          per account,   e.g. "account:sign-in=5/15m"
//
//   path-pattern  "/" followed by printable ASCII other than space , = | *; a trailing "*"
//                 makes it a prefix ("/api/auth/sign-in/*" matches "/api/auth/sign-in/email").
//                 Without "*" it matches that exact path only.
//   name          1 to 64 of a-z 0-9 - _ (the name the routes pass to CheckAccount).
//   max           1 to 1000000 requests.
//   window        a positive integer followed by s, m or h; 1s to 24h.
//
// Blanks around the whole rule are ignored; inside it none are allowed. Thread-safe: all free
// functions, no state.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace sessiond::ratelimit {

struct Rule {
  enum class Key {
    kIp,       // Counts by client IP (IPv6 by /64, see client_key.h). Matched against paths.
    kAccount,  // Counts by account (normalised email). Looked up by name, never by path.
  };

  std::string pattern;  // kIp: exact path or prefix ending in '*'. kAccount: the rule's name.
  std::chrono::seconds window{60};
  std::uint32_t max = 10;
  Key key = Key::kIp;

  friend bool operator==(const Rule&, const Rule&) = default;
};

// Whether an IP rule's pattern matches `path` (exact, or prefix when it ends in '*'). Account
// rules never match a path.
[[nodiscard]] bool Matches(const Rule& rule, std::string_view path);

// Parses one rule in the text form above. On failure the error (kValidation) quotes the rule
// and says what is wrong, e.g. `rate limit rule "/x=0/60s": max must be 1 to 1000000`.
[[nodiscard]] Result<Rule> ParseRule(std::string_view text);

// Parses a comma-separated list (the env-var form); empty items are skipped. Fails on the
// first bad rule, with ParseRule's message.
[[nodiscard]] Result<std::vector<Rule>> ParseRuleList(std::string_view comma_separated);

// Parses each string (the TOML-array form). Fails on the first bad rule.
[[nodiscard]] Result<std::vector<Rule>> ParseRules(const std::vector<std::string>& texts);

// The text form of a rule; ParseRule(FormatRule(r)) == r for every valid rule. The window is
// written in the largest unit that divides it exactly ("15m", "60s" → "1m").
[[nodiscard]] std::string FormatRule(const Rule& rule);

// The name of the default per-account rule on failed sign-ins (what the sign-in route passes
// to RateLimiter::CheckAccount).
inline constexpr std::string_view kSignInAccountRule = "sign-in";

// The defaults, in match order:
//  - 10 per 60 s per IP on sign-in, sign-up and every session-changing route (sign-out,
//    revoke-session(s), revoke-other-sessions, change-password, update-user): the seed's limit.
//  - 600 per 60 s per IP on get-session and its alias /session. Looser on purpose: an SPA
//    polls it (on focus, on an interval, from several tabs behind one NAT), it only reads, and
//    it is cheap (one keyed lookup, no password hash). 10/min would lock out ordinary users;
//    600/min (10/s) still caps a single client's scraping of session tokens.
//  - account:sign-in = 5 failed sign-ins per 15 minutes per account, so one account cannot be
//    brute-forced from many IPs. While over, even the right password answers 429.
[[nodiscard]] std::vector<Rule> DefaultRules();

}  // namespace sessiond::ratelimit
