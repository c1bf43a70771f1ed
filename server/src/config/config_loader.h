// Builds a Config from, in order: defaults, a TOML file, SESSIOND_* environment variables,
// command-line overrides. Exceptions are allowed here (start-up only); everything is turned
// into a ConfigError naming the offending key, which main() reports with exit status 2.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace sessiond::config {

// A bad value. what() names the key, e.g. "session.expiresIn: must be a positive integer".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where values come from besides the defaults.
struct Sources {
  std::optional<std::string> toml_path;  // --config FILE
  // Environment lookup; defaults to getenv. Tests pass a map.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  // Overrides from flags, as key → value ("port" → "8080", "session.expiresIn" → "60").
  std::vector<std::pair<std::string, std::string>> overrides;
};

// Loads and validates. Throws ConfigError.
[[nodiscard]] Config Load(const Sources& sources);

// Checks cross-field rules (port range, update_age <= expires_in, argon2 at or above the
// OWASP floor, base_url parses, ...). Throws ConfigError.
//
// `sources` supplies only the environment lookup (sources.getenv, or ::getenv when unset): the
// argon2 floor is waived when SESSIOND_INSECURE_FAST_HASH_FOR_TESTS=1 is set there, so test
// set-ups can hash quickly. Load() passes its own Sources.
void Validate(const Config& config, const Sources& sources = {});

// Every key with its environment variable name, default and one-line description, in the
// order docs/configuration.md lists them (also used by `sessiond --help`).
struct KeyInfo {
  std::string key;  // "session.expiresIn"
  std::string env;  // "SESSIOND_SESSION_EXPIRES_IN"
  std::string default_value;
  std::string description;
};
[[nodiscard]] std::vector<KeyInfo> Keys();

// The environment variable for a key: "SESSIOND_" + upper snake case of the key.
[[nodiscard]] std::string EnvName(std::string_view key);

}  // namespace sessiond::config
