// Applies the rule table to requests: which rule a path falls under, what it counts by, and
// the resulting Decision. Counters live in a CounterStore; time comes from the injected Clock.
//
// Wiring in a route (see README.md for the whole sign-in flow):
//
//   if (auto d = limiter.Check(request.path, request.client_ip); d && !d->allowed) {
//     return 429 with RateLimitHeaders(*d);
//   }
//
// Counter keys are namespaced by rule ("rl:ip:<pattern>|<client>", "rl:account:<name>|<acct>")
// so two rules never share a counter, and replicas with the same rules share them when the
// store is shared.
//
// Thread-safety: thread-safe; the rule table is fixed at construction.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "ratelimit/counter_store.h"
#include "ratelimit/decision.h"
#include "ratelimit/rule.h"

namespace sessiond::ratelimit {

class RateLimiter {
 public:
  // `store` and `clock` must outlive the limiter. `enabled` false (SESSIOND_RATE_LIMIT_ENABLED
  // =false, for test and benchmark set-ups) makes every check answer nullopt and count nothing.
  RateLimiter(std::vector<Rule> rules, CounterStore& store, const Clock& clock, bool enabled);

  // Counts one request to `path` from `client_ip` (request.client_ip: the transport already
  // believes X-Forwarded-For only from trusted proxies) against the FIRST IP rule whose
  // pattern matches the path. Clients are keyed by ClientKey (IPv6 per /64). nullopt when
  // disabled or no IP rule matches; then nothing was counted.
  [[nodiscard]] std::optional<Decision> Check(std::string_view path, std::string_view client_ip);

  // Per-account limit on failed attempts, for the account rule named `rule_name` (e.g.
  // kSignInAccountRule); `account` is the normalised email (session::NormalizeEmail). nullopt
  // when disabled or there is no such rule.
  //
  // Call BEFORE checking the password. If allowed, this attempt is already counted as a
  // failure, so nothing more is needed when the password turns out wrong; call Clear when it
  // is right. If !allowed nothing was counted: answer 429 without checking the password, so
  // even the right one is refused until the window frees a slot.
  //
  // Counting up front (rather than peek now, record the failure later) closes the race in
  // which many concurrent guesses all pass the check before the first failure is recorded:
  // at most `max` attempts per window ever reach the password check.
  [[nodiscard]] std::optional<Decision> CheckAccount(std::string_view rule_name,
                                                     std::string_view account);

  // The account's state without counting (for logs or a status endpoint). nullopt as above.
  [[nodiscard]] std::optional<Decision> PeekAccount(std::string_view rule_name,
                                                    std::string_view account);

  // A successful sign-in: forgets the account's failed attempts under `rule_name`.
  void Clear(std::string_view rule_name, std::string_view account);

  [[nodiscard]] bool enabled() const { return enabled_; }
  [[nodiscard]] const std::vector<Rule>& rules() const { return rules_; }

  // The rule Check would apply to `path` (first IP rule matching), or nullptr.
  [[nodiscard]] const Rule* RuleForPath(std::string_view path) const;
  // The account rule named `rule_name`, or nullptr.
  [[nodiscard]] const Rule* AccountRule(std::string_view rule_name) const;

 private:
  std::vector<Rule> rules_;
  CounterStore& store_;
  const Clock& clock_;
  const bool enabled_;
};

}  // namespace sessiond::ratelimit
