#include "ratelimit/rate_limiter.h"

#include <utility>

#include "ratelimit/client_key.h"

namespace sessiond::ratelimit {
namespace {

// "rl:ip:/api/auth/sign-in/*|203.0.113.7". Patterns and names cannot hold '|' (ParseRule
// refuses it), so the first '|' ends the rule part and keys of different rules never meet.
std::string CounterKey(std::string_view kind, std::string_view pattern, std::string_view subject) {
  std::string key;
  key.reserve(3 + kind.size() + 1 + pattern.size() + 1 + subject.size());
  key += "rl:";
  key += kind;
  key += ':';
  key += pattern;
  key += '|';
  key += subject;
  return key;
}

std::string AccountKey(const Rule& rule, std::string_view account) {
  return CounterKey("account", rule.pattern, account);
}

}  // namespace

RateLimiter::RateLimiter(std::vector<Rule> rules, CounterStore& store, const Clock& clock,
                         bool enabled)
    : rules_(std::move(rules)), store_(store), clock_(clock), enabled_(enabled) {}

const Rule* RateLimiter::RuleForPath(std::string_view path) const {
  for (const Rule& rule : rules_) {
    if (Matches(rule, path)) return &rule;
  }
  return nullptr;
}

const Rule* RateLimiter::AccountRule(std::string_view rule_name) const {
  for (const Rule& rule : rules_) {
    if (rule.key == Rule::Key::kAccount && rule.pattern == rule_name) return &rule;
  }
  return nullptr;
}

std::optional<Decision> RateLimiter::Check(std::string_view path, std::string_view client_ip) {
  if (!enabled_) return std::nullopt;
  const Rule* rule = RuleForPath(path);
  if (rule == nullptr) return std::nullopt;
  return store_.Hit(CounterKey("ip", rule->pattern, ClientKey(client_ip)), rule->max, rule->window,
                    clock_.Now());
}

std::optional<Decision> RateLimiter::CheckAccount(std::string_view rule_name,
                                                  std::string_view account) {
  if (!enabled_) return std::nullopt;
  const Rule* rule = AccountRule(rule_name);
  if (rule == nullptr) return std::nullopt;
  return store_.Hit(AccountKey(*rule, account), rule->max, rule->window, clock_.Now());
}

std::optional<Decision> RateLimiter::PeekAccount(std::string_view rule_name,
                                                 std::string_view account) {
  if (!enabled_) return std::nullopt;
  const Rule* rule = AccountRule(rule_name);
  if (rule == nullptr) return std::nullopt;
  return store_.Peek(AccountKey(*rule, account), rule->max, rule->window, clock_.Now());
}

void RateLimiter::Clear(std::string_view rule_name, std::string_view account) {
  if (!enabled_) return;
  const Rule* rule = AccountRule(rule_name);
  if (rule == nullptr) return;
  store_.Reset(AccountKey(*rule, account));
}

}  // namespace sessiond::ratelimit
