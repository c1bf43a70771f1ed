#include "ratelimit/rule.h"

#include <charconv>
#include <system_error>
#include <utility>

namespace sessiond::ratelimit {
namespace {

constexpr std::string_view kAccountPrefix = "account:";
constexpr std::string_view kIpSuffix = ":ip";
constexpr std::uint32_t kMaxMax = 1'000'000;
constexpr std::int64_t kMaxWindowSeconds = 24LL * 60 * 60;
constexpr std::size_t kMaxNameLength = 64;

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Characters a path pattern may hold: printable ASCII except the separators of the text form
// (',' between rules, '=' before the limit, '|' inside counter keys) and blanks. '*' only last.
bool IsPatternChar(char c) {
  return c > ' ' && c < 0x7f && c != ',' && c != '=' && c != '|' && c != '*';
}

// Why `pattern` is not a valid path pattern, or "" when it is.
std::string_view PatternProblem(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/') return "path pattern must start with '/'";
  std::string_view body = pattern;
  if (body.back() == '*') body.remove_suffix(1);
  for (const char c : body) {
    if (c == '*') return "'*' is only allowed at the end of a path pattern";
    if (!IsPatternChar(c)) return "path pattern has a blank, control or reserved character";
  }
  return {};
}

std::string_view NameProblem(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return "account rule name must be 1 to 64 characters";
  }
  for (const char c : name) {
    if (!IsNameChar(c)) return "account rule name may only hold a-z 0-9 - _";
  }
  return {};
}

// Parses "<max>/<window>" into `rule`; returns why not, or "" on success.
std::string_view ParseLimit(std::string_view text, Rule& rule) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return "expected <max>/<window>, e.g. 10/60s";
  const std::string_view max_text = text.substr(0, slash);
  std::string_view window_text = text.substr(slash + 1);

  std::uint64_t max = 0;
  {
    const char* const last = max_text.data() + max_text.size();
    const auto [end, ec] = std::from_chars(max_text.data(), last, max);
    if (max_text.empty() || ec != std::errc() || end != last || max < 1 || max > kMaxMax) {
      return "max must be 1 to 1000000";
    }
  }

  if (window_text.empty()) return "window must be a number followed by s, m or h";
  std::int64_t unit = 0;
  switch (window_text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    default:
      return "window must be a number followed by s, m or h";
  }
  window_text.remove_suffix(1);
  std::int64_t count = 0;
  const char* const last = window_text.data() + window_text.size();
  const auto [end, ec] = std::from_chars(window_text.data(), last, count);
  if (window_text.empty() || ec != std::errc() || end != last) {
    return "window must be a number followed by s, m or h";
  }
  // Compare before multiplying so a huge count cannot overflow.
  if (count < 1 || count > kMaxWindowSeconds / unit) return "window must be 1s to 24h";

  rule.max = static_cast<std::uint32_t>(max);
  rule.window = std::chrono::seconds(count * unit);
  return {};
}

std::unexpected<Error> RuleError(std::string_view text, std::string_view problem) {
  std::string detail = "rate limit rule \"";
  detail += text;
  detail += "\": ";
  detail += problem;
  return Fail(ErrorCode::kValidation, std::move(detail));
}

}  // namespace

bool Matches(const Rule& rule, std::string_view path) {
  if (rule.key != Rule::Key::kIp) return false;
  const std::string_view pattern = rule.pattern;
  if (!pattern.empty() && pattern.back() == '*') {
    return path.starts_with(pattern.substr(0, pattern.size() - 1));
  }
  return path == pattern;
}

Result<Rule> ParseRule(std::string_view text) {
  text = TrimBlanks(text);
  const std::size_t equals = text.find('=');
  if (equals == std::string_view::npos) {
    return RuleError(text, "expected <path>=<max>/<window> or account:<name>=<max>/<window>");
  }
  std::string_view target = text.substr(0, equals);
  std::string_view limit = text.substr(equals + 1);

  Rule rule;
  std::string_view problem;
  if (target.starts_with(kAccountPrefix)) {
    target.remove_prefix(kAccountPrefix.size());
    rule.key = Rule::Key::kAccount;
    problem = NameProblem(target);
    if (limit.ends_with(kIpSuffix)) problem = "an account rule cannot end in :ip";
  } else {
    rule.key = Rule::Key::kIp;
    problem = PatternProblem(target);
    if (limit.ends_with(kIpSuffix)) limit.remove_suffix(kIpSuffix.size());
    if (problem.empty() && limit.find(':') != std::string_view::npos) {
      problem = "the only key suffix is :ip; per-account rules are written account:<name>=...";
    }
  }
  if (problem.empty()) problem = ParseLimit(limit, rule);
  if (!problem.empty()) return RuleError(text, problem);
  rule.pattern = std::string(target);
  return rule;
}

Result<std::vector<Rule>> ParseRuleList(std::string_view comma_separated) {
  std::vector<Rule> rules;
  while (true) {
    const std::size_t comma = comma_separated.find(',');
    const std::string_view item = TrimBlanks(comma_separated.substr(0, comma));
    if (!item.empty()) {
      Result<Rule> rule = ParseRule(item);
      if (!rule) return std::unexpected(std::move(rule.error()));
      rules.push_back(std::move(*rule));
    }
    if (comma == std::string_view::npos) break;
    comma_separated.remove_prefix(comma + 1);
  }
  return rules;
}

Result<std::vector<Rule>> ParseRules(const std::vector<std::string>& texts) {
  std::vector<Rule> rules;
  rules.reserve(texts.size());
  for (const std::string& text : texts) {
    Result<Rule> rule = ParseRule(text);
    if (!rule) return std::unexpected(std::move(rule.error()));
    rules.push_back(std::move(*rule));
  }
  return rules;
}

std::string FormatRule(const Rule& rule) {
  std::string text;
  if (rule.key == Rule::Key::kAccount) text += kAccountPrefix;
  text += rule.pattern;
  text += '=';
  text += std::to_string(rule.max);
  text += '/';
  const std::int64_t s = rule.window.count();
  if (s != 0 && s % 3600 == 0) {
    text += std::to_string(s / 3600) + 'h';
  } else if (s != 0 && s % 60 == 0) {
    text += std::to_string(s / 60) + 'm';
  } else {
    text += std::to_string(s) + 's';
  }
  return text;
}

std::vector<Rule> DefaultRules() {
  using std::chrono::seconds;
  constexpr seconds kMinute{60};
  std::vector<Rule> rules;
  for (const char* pattern :
       {"/api/auth/sign-in/*", "/api/auth/sign-up/*", "/api/auth/sign-out",
        "/api/auth/revoke-session", "/api/auth/revoke-sessions", "/api/auth/revoke-other-sessions",
        "/api/auth/change-password", "/api/auth/update-user"}) {
    rules.push_back(Rule{pattern, kMinute, 10, Rule::Key::kIp});
  }
  for (const char* pattern : {"/api/auth/get-session", "/api/auth/session"}) {
    rules.push_back(Rule{pattern, kMinute, 600, Rule::Key::kIp});
  }
  rules.push_back(Rule{std::string(kSignInAccountRule), seconds{15 * 60}, 5, Rule::Key::kAccount});
  return rules;
}

}  // namespace sessiond::ratelimit
