#include "config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sessiond::config {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// Every key the issue asks for, in no particular order.
const std::vector<std::string>& AllKeys() {
  static const auto& keys = *new std::vector<std::string>{
      "host",
      "port",
      "baseUrl",
      "threads",
      "trustedOrigins",
      "trustedProxies",
      "dataDir",
      "secret",
      "limits.maxHeaderBytes",
      "limits.maxBodyBytes",
      "limits.readTimeoutMs",
      "limits.idleTimeoutMs",
      "limits.maxConnections",
      "limits.shutdownGraceMs",
      "database.url",
      "database.synchronous",
      "database.busyTimeoutMs",
      "database.poolSize",
      "database.connectTimeoutMs",
      "database.statementTimeoutMs",
      "session.expiresIn",
      "session.updateAge",
      "session.dontRememberExpiresIn",
      "session.sweepInterval",
      "session.maxUserAgentLength",
      "cookie.prefix",
      "cookie.secure",
      "cookie.httpOnly",
      "cookie.sameSite",
      "cookie.path",
      "cookie.expires",
      "cookie.renew",
      "cookie.pathSuccess",
      "cookie.pathLoggedOut",
      "password.minLength",
      "password.maxLength",
      "password.argon2MemoryKib",
      "password.argon2Iterations",
      "session.absoluteLifetime",
      "session.idleTimeout",
      "rateLimit.enabled",
      "rateLimit.rules",
      "rateLimit.storage",
      "redis.url",
      "redis.timeoutMs",
      "redis.poolSize",
      "cookieCache.enabled",
      "cookieCache.maxAge",
      "sessionCache.enabled",
      "sessionCache.maxAge",
      "sessionCache.maxEntries",
      "replication.pollIntervalMs",
      "oneTimeToken.expiresIn",
      "jwt.algorithm",
      "jwt.expiresIn",
      "jwt.issuer",
      "jwt.audience",
      "jwt.fields",
      "jwt.rotationInterval",
      "jwt.getSessionHeader",
      "log.level",
  };
  return keys;
}

class ConfigLoaderTest : public ::testing::Test {
 protected:
  // Sources whose environment is env_ only (the process environment never leaks in).
  Sources MakeSources() {
    Sources sources;
    sources.getenv = [this](const std::string& name) -> std::optional<std::string> {
      const auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    return sources;
  }

  Sources WithToml(std::string_view toml) {
    Sources sources = MakeSources();
    sources.toml_path = WriteFile(toml);
    return sources;
  }

  // Writes `text` to a file unique to this test and returns its path.
  std::string WriteFile(std::string_view text) {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::filesystem::path path = std::filesystem::path(::testing::TempDir()) /
                                       (std::string("config_loader_test_") + info->name() + "_" +
                                        std::to_string(files_++) + ".toml");
    std::ofstream(path) << text;
    written_.push_back(path);
    return path.string();
  }

  Config LoadWithEnv(std::map<std::string, std::string> env) {
    env_ = std::move(env);
    return Load(MakeSources());
  }

  Config LoadWithOverride(std::string key, std::string value) {
    Sources sources = MakeSources();
    sources.overrides.emplace_back(std::move(key), std::move(value));
    return Load(sources);
  }

  // The what() of the ConfigError that Load(sources) throws ("" and a failure if none).
  static std::string LoadError(const Sources& sources) {
    try {
      (void)Load(sources);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "Load did not throw ConfigError";
    return "";
  }

  std::string OverrideError(std::string key, std::string value) {
    Sources sources = MakeSources();
    sources.overrides.emplace_back(std::move(key), std::move(value));
    return LoadError(sources);
  }

  // Like OverrideError, but through the environment variable `name` (set for this call only).
  std::string EnvError(const std::string& name, std::string value) {
    env_[name] = std::move(value);
    std::string error = LoadError(MakeSources());
    env_.erase(name);
    return error;
  }

  void TearDown() override {
    for (const std::filesystem::path& path : written_) {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
  }

  std::map<std::string, std::string> env_;
  std::vector<std::filesystem::path> written_;
  int files_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Defaults and layering.

TEST_F(ConfigLoaderTest, DefaultsAreTheDocumentedValues) {
  const Config c = Load(MakeSources());
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 3000);
  EXPECT_EQ(c.base_url, "");
  EXPECT_EQ(c.threads, 0u);
  EXPECT_THAT(c.trusted_origins, IsEmpty());
  EXPECT_THAT(c.trusted_proxies, IsEmpty());
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.secret, "");

  EXPECT_EQ(c.limits.max_header_bytes, 8u * 1024);
  EXPECT_EQ(c.limits.max_body_bytes, 64u * 1024);
  EXPECT_EQ(c.limits.read_timeout_ms, 10'000u);
  EXPECT_EQ(c.limits.idle_timeout_ms, 65'000u);
  EXPECT_EQ(c.limits.max_connections, 10'000u);
  EXPECT_EQ(c.limits.shutdown_grace_ms, 10'000u);

  EXPECT_EQ(c.database.url, "");
  EXPECT_EQ(c.database.synchronous, "full");
  EXPECT_EQ(c.database.busy_timeout_ms, 5'000u);

  EXPECT_EQ(c.session.expires_in, 604'800);
  EXPECT_EQ(c.session.update_age, 86'400);
  EXPECT_EQ(c.session.dont_remember_expires_in, 86'400);
  EXPECT_EQ(c.session.sweep_interval, 3'600);
  EXPECT_EQ(c.session.max_user_agent_length, 512u);

  EXPECT_EQ(c.cookie.prefix, "better-auth");
  EXPECT_EQ(c.cookie.secure, Tristate::kAuto);
  EXPECT_TRUE(c.cookie.http_only);
  EXPECT_EQ(c.cookie.same_site, SameSite::kLax);
  EXPECT_EQ(c.cookie.path, "/");
  EXPECT_EQ(c.cookie.expires, 0);
  EXPECT_TRUE(c.cookie.renew);
  EXPECT_EQ(c.cookie.path_success, "/");
  EXPECT_EQ(c.cookie.path_logged_out, "/");

  EXPECT_EQ(c.password.min_length, 8u);
  EXPECT_EQ(c.password.max_length, 128u);
  EXPECT_EQ(c.password.argon2_memory_kib, 19'456u);
  EXPECT_EQ(c.password.argon2_iterations, 2u);

  EXPECT_EQ(c.log.level, "info");
}

TEST_F(ConfigLoaderTest, DefaultConfigValidates) {
  EXPECT_NO_THROW(Validate(Config{}, MakeSources()));
}

TEST_F(ConfigLoaderTest, TomlSetsNestedValuesAndArrays) {
  const Config c = Load(WithToml(R"(
host = "0.0.0.0"
port = 8080
baseUrl = "https://Auth.Example.com/"
trustedOrigins = ["https://app.example.com", "http://localhost:5173"]
trustedProxies = ["10.0.0.0/8", "::1"]
secret = "0123456789abcdef0123456789abcdef"

[limits]
maxBodyBytes = 1048576

[database]
url = "/var/lib/sessiond/other.db"
synchronous = "NORMAL"

[session]
expiresIn = 1209600
updateAge = 3600

[cookie]
secure = true
httpOnly = false
sameSite = "Strict"
pathSuccess = "/dashboard"

[password]
argon2MemoryKib = 65536
argon2Iterations = 3

[log]
level = "debug"
)"));
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.base_url, "https://auth.example.com");  // Lower-cased, trailing "/" removed.
  EXPECT_THAT(c.trusted_origins, ElementsAre("https://app.example.com", "http://localhost:5173"));
  EXPECT_THAT(c.trusted_proxies, ElementsAre("10.0.0.0/8", "::1"));
  EXPECT_EQ(c.secret, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(c.limits.max_body_bytes, 1'048'576u);
  EXPECT_EQ(c.limits.max_header_bytes, 8u * 1024);  // Untouched keys keep their defaults.
  EXPECT_EQ(c.database.url, "/var/lib/sessiond/other.db");
  EXPECT_EQ(c.database.synchronous, "normal");
  EXPECT_EQ(c.session.expires_in, 1'209'600);
  EXPECT_EQ(c.session.update_age, 3'600);
  EXPECT_EQ(c.cookie.secure, Tristate::kOn);
  EXPECT_FALSE(c.cookie.http_only);
  EXPECT_EQ(c.cookie.same_site, SameSite::kStrict);
  EXPECT_EQ(c.cookie.path_success, "/dashboard");
  EXPECT_EQ(c.password.argon2_memory_kib, 65'536u);
  EXPECT_EQ(c.password.argon2_iterations, 3u);
  EXPECT_EQ(c.log.level, "debug");
}

TEST_F(ConfigLoaderTest, TomlDottedKeysAndInlineTablesWork) {
  const Config c = Load(WithToml(R"(
session.expiresIn = 172800
baseUrl = "https://auth.example.com"
cookie = { secure = "auto", sameSite = "none" }
)"));
  EXPECT_EQ(c.session.expires_in, 172'800);
  EXPECT_EQ(c.cookie.secure, Tristate::kAuto);
  EXPECT_EQ(c.cookie.same_site, SameSite::kNone);
}

TEST_F(ConfigLoaderTest, EnvironmentOverridesToml) {
  env_ = {{"SESSIOND_PORT", "9000"}, {"SESSIOND_SESSION_EXPIRES_IN", "120"}};
  const Config c =
      Load(WithToml("port = 8080\nhost = \"::\"\n[session]\nexpiresIn = 60\n"
                    "updateAge = 30\n"));
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.session.expires_in, 120);
  EXPECT_EQ(c.session.update_age, 30);  // From TOML; no environment variable.
  EXPECT_EQ(c.host, "::");
}

TEST_F(ConfigLoaderTest, OverridesOverrideEnvironmentInOrder) {
  env_ = {{"SESSIOND_PORT", "9000"}, {"SESSIOND_HOST", "10.1.1.1"}};
  Sources sources = WithToml("port = 8080\n");
  sources.overrides = {{"port", "7000"}, {"log.level", "warn"}, {"port", "7001"}};
  const Config c = Load(sources);
  EXPECT_EQ(c.port, 7001);
  EXPECT_EQ(c.host, "10.1.1.1");
  EXPECT_EQ(c.log.level, "warn");
}

TEST_F(ConfigLoaderTest, RequiredEnvironmentVariablesWork) {
  const Config c = LoadWithEnv({
      {"SESSIOND_PORT", "4000"},
      {"SESSIOND_HOST", "0.0.0.0"},
      {"SESSIOND_BASE_URL", "https://auth.example.com"},
      {"SESSIOND_DATA_DIR", "/var/lib/sessiond"},
      {"SESSIOND_DATABASE_URL", "/srv/db/sessions.db"},
      {"SESSIOND_SECRET", "a-very-long-production-secret-of-40-chars"},
  });
  EXPECT_EQ(c.port, 4000);
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.base_url, "https://auth.example.com");
  EXPECT_EQ(c.data_dir, "/var/lib/sessiond");
  EXPECT_EQ(c.database.url, "/srv/db/sessions.db");
  EXPECT_EQ(c.secret, "a-very-long-production-secret-of-40-chars");
}

TEST_F(ConfigLoaderTest, EveryKeyCanBeSetFromTheEnvironment) {
  const Config c = LoadWithEnv({
      {"SESSIOND_THREADS", "4"},
      {"SESSIOND_TRUSTED_ORIGINS", " https://a.example.com , http://b.example.com:8080/ ,"},
      {"SESSIOND_TRUSTED_PROXIES", "127.0.0.1,fd00::/8"},
      {"SESSIOND_LIMITS_MAX_HEADER_BYTES", "16384"},
      {"SESSIOND_LIMITS_MAX_BODY_BYTES", "2048"},
      {"SESSIOND_LIMITS_READ_TIMEOUT_MS", "1"},
      {"SESSIOND_LIMITS_IDLE_TIMEOUT_MS", "2"},
      {"SESSIOND_LIMITS_MAX_CONNECTIONS", "3"},
      {"SESSIOND_LIMITS_SHUTDOWN_GRACE_MS", "4"},
      {"SESSIOND_DATABASE_SYNCHRONOUS", "normal"},
      {"SESSIOND_DATABASE_BUSY_TIMEOUT_MS", "0"},
      {"SESSIOND_SESSION_UPDATE_AGE", "0"},
      {"SESSIOND_SESSION_DONT_REMEMBER_EXPIRES_IN", "600"},
      {"SESSIOND_SESSION_SWEEP_INTERVAL", "0"},
      {"SESSIOND_SESSION_MAX_USER_AGENT_LENGTH", "100"},
      {"SESSIOND_COOKIE_PREFIX", "my-app"},
      {"SESSIOND_COOKIE_SECURE", "false"},
      {"SESSIOND_COOKIE_HTTP_ONLY", "No"},
      {"SESSIOND_COOKIE_SAME_SITE", "STRICT"},
      {"SESSIOND_COOKIE_PATH", "/auth"},
      {"SESSIOND_COOKIE_EXPIRES", "3600"},
      {"SESSIOND_COOKIE_RENEW", "0"},
      {"SESSIOND_COOKIE_PATH_SUCCESS", "https://app.example.com/home"},
      {"SESSIOND_COOKIE_PATH_LOGGED_OUT", "/bye"},
      {"SESSIOND_PASSWORD_MIN_LENGTH", "12"},
      {"SESSIOND_PASSWORD_MAX_LENGTH", "256"},
      {"SESSIOND_PASSWORD_ARGON2_MEMORY_KIB", "47104"},
      {"SESSIOND_PASSWORD_ARGON2_ITERATIONS", "5"},
      {"SESSIOND_LOG_LEVEL", "Trace"},
  });
  EXPECT_EQ(c.threads, 4u);
  EXPECT_THAT(c.trusted_origins, ElementsAre("https://a.example.com", "http://b.example.com:8080"));
  EXPECT_THAT(c.trusted_proxies, ElementsAre("127.0.0.1", "fd00::/8"));
  EXPECT_EQ(c.limits.max_header_bytes, 16'384u);
  EXPECT_EQ(c.limits.max_body_bytes, 2'048u);
  EXPECT_EQ(c.limits.read_timeout_ms, 1u);
  EXPECT_EQ(c.limits.idle_timeout_ms, 2u);
  EXPECT_EQ(c.limits.max_connections, 3u);
  EXPECT_EQ(c.limits.shutdown_grace_ms, 4u);
  EXPECT_EQ(c.database.synchronous, "normal");
  EXPECT_EQ(c.database.busy_timeout_ms, 0u);
  EXPECT_EQ(c.session.update_age, 0);
  EXPECT_EQ(c.session.dont_remember_expires_in, 600);
  EXPECT_EQ(c.session.sweep_interval, 0);
  EXPECT_EQ(c.session.max_user_agent_length, 100u);
  EXPECT_EQ(c.cookie.prefix, "my-app");
  EXPECT_EQ(c.cookie.secure, Tristate::kOff);
  EXPECT_FALSE(c.cookie.http_only);
  EXPECT_EQ(c.cookie.same_site, SameSite::kStrict);
  EXPECT_EQ(c.cookie.path, "/auth");
  EXPECT_EQ(c.cookie.expires, 3'600);
  EXPECT_FALSE(c.cookie.renew);
  EXPECT_EQ(c.cookie.path_success, "https://app.example.com/home");
  EXPECT_EQ(c.cookie.path_logged_out, "/bye");
  EXPECT_EQ(c.password.min_length, 12u);
  EXPECT_EQ(c.password.max_length, 256u);
  EXPECT_EQ(c.password.argon2_memory_kib, 47'104u);
  EXPECT_EQ(c.password.argon2_iterations, 5u);
  EXPECT_EQ(c.log.level, "trace");
}

TEST_F(ConfigLoaderTest, BooleanWordsAreCaseInsensitive) {
  for (const char* yes : {"true", "TRUE", "1", "yes", "Yes"}) {
    EXPECT_TRUE(LoadWithOverride("cookie.renew", yes).cookie.renew) << yes;
  }
  for (const char* no : {"false", "False", "0", "no", "NO"}) {
    EXPECT_FALSE(LoadWithOverride("cookie.renew", no).cookie.renew) << no;
  }
  EXPECT_THAT(OverrideError("cookie.renew", "maybe"),
              StartsWith("cookie.renew: expected true, false, 1, 0, yes or no, got \"maybe\""));
}

TEST_F(ConfigLoaderTest, CookieSecureAcceptsAutoAndBooleans) {
  EXPECT_EQ(LoadWithOverride("cookie.secure", "auto").cookie.secure, Tristate::kAuto);
  EXPECT_EQ(LoadWithOverride("cookie.secure", "true").cookie.secure, Tristate::kOn);
  EXPECT_EQ(LoadWithOverride("cookie.secure", "false").cookie.secure, Tristate::kOff);
  EXPECT_EQ(Load(WithToml("cookie.secure = false\n")).cookie.secure, Tristate::kOff);
  EXPECT_EQ(Load(WithToml("cookie.secure = \"auto\"\n")).cookie.secure, Tristate::kAuto);
  EXPECT_THAT(OverrideError("cookie.secure", "sometimes"), StartsWith("cookie.secure: "));
  EXPECT_THAT(LoadError(WithToml("cookie.secure = 1\n")),
              StartsWith("cookie.secure: expected \"auto\", true or false"));
}

TEST_F(ConfigLoaderTest, EmptyListTextClearsTheList) {
  Sources sources = WithToml("trustedOrigins = [\"https://a.example.com\"]\n");
  sources.overrides = {{"trustedOrigins", ""}};
  EXPECT_THAT(Load(sources).trusted_origins, IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Key names.

TEST(EnvNameTest, Examples) {
  EXPECT_EQ(EnvName("port"), "SESSIOND_PORT");
  EXPECT_EQ(EnvName("host"), "SESSIOND_HOST");
  EXPECT_EQ(EnvName("baseUrl"), "SESSIOND_BASE_URL");
  EXPECT_EQ(EnvName("dataDir"), "SESSIOND_DATA_DIR");
  EXPECT_EQ(EnvName("database.url"), "SESSIOND_DATABASE_URL");
  EXPECT_EQ(EnvName("secret"), "SESSIOND_SECRET");
  EXPECT_EQ(EnvName("session.expiresIn"), "SESSIOND_SESSION_EXPIRES_IN");
  EXPECT_EQ(EnvName("cookie.httpOnly"), "SESSIOND_COOKIE_HTTP_ONLY");
  EXPECT_EQ(EnvName("limits.maxBodyBytes"), "SESSIOND_LIMITS_MAX_BODY_BYTES");
  EXPECT_EQ(EnvName("session.maxUserAgentLength"), "SESSIOND_SESSION_MAX_USER_AGENT_LENGTH");
  EXPECT_EQ(EnvName("password.argon2MemoryKib"), "SESSIOND_PASSWORD_ARGON2_MEMORY_KIB");
  EXPECT_EQ(EnvName("trustedOrigins"), "SESSIOND_TRUSTED_ORIGINS");
}

TEST(KeysTest, ListsEveryKeyExactlyOnceWithItsEnvironmentName) {
  const std::vector<KeyInfo> keys = Keys();
  std::multiset<std::string> listed;
  for (const KeyInfo& info : keys) {
    listed.insert(info.key);
    EXPECT_EQ(info.env, EnvName(info.key));
    EXPECT_FALSE(info.description.empty()) << info.key;
    EXPECT_FALSE(info.default_value.empty()) << info.key;
  }
  for (const std::string& key : AllKeys()) EXPECT_EQ(listed.count(key), 1u) << key;
  EXPECT_EQ(keys.size(), AllKeys().size());
}

TEST(KeysTest, DefaultsAreRenderedAsTomlText) {
  std::map<std::string, std::string> defaults;
  for (const KeyInfo& info : Keys()) defaults[info.key] = info.default_value;
  EXPECT_EQ(defaults["host"], "\"127.0.0.1\"");
  EXPECT_EQ(defaults["port"], "3000");
  EXPECT_EQ(defaults["baseUrl"], "\"\"");
  EXPECT_EQ(defaults["trustedOrigins"], "[]");
  EXPECT_EQ(defaults["session.expiresIn"], "604800");
  EXPECT_EQ(defaults["session.updateAge"], "86400");
  EXPECT_EQ(defaults["cookie.prefix"], "\"better-auth\"");
  EXPECT_EQ(defaults["cookie.secure"], "\"auto\"");
  EXPECT_EQ(defaults["cookie.httpOnly"], "true");
  EXPECT_EQ(defaults["cookie.sameSite"], "\"lax\"");
  EXPECT_EQ(defaults["password.argon2MemoryKib"], "19456");
  EXPECT_EQ(defaults["log.level"], "\"info\"");
}

#ifdef SESSIOND_CONFIGURATION_MD
std::string ReadConfigurationMd() {
  std::ifstream in(SESSIOND_CONFIGURATION_MD);
  EXPECT_TRUE(in) << "cannot read " << SESSIOND_CONFIGURATION_MD;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(DocsTest, ConfigurationMdListsEveryKeyWithItsVariableAndDefault) {
  const std::string doc = ReadConfigurationMd();
  for (const KeyInfo& info : Keys()) {
    const std::string row =
        "| `" + info.key + "` | `" + info.env + "` | `" + info.default_value + "` | ";
    EXPECT_THAT(doc, HasSubstr(row)) << "docs/configuration.md needs a row for " << info.key;
  }
}

TEST_F(ConfigLoaderTest, ConfigurationMdExampleLoads) {
  const std::string doc = ReadConfigurationMd();
  const std::size_t start = doc.find("```toml\n");
  ASSERT_NE(start, std::string::npos);
  const std::size_t end = doc.find("```", start + 8);
  ASSERT_NE(end, std::string::npos);
  const Config c = Load(WithToml(doc.substr(start + 8, end - start - 8)));
  EXPECT_EQ(c.base_url, "https://auth.example.com");
}
#endif

// ---------------------------------------------------------------------------------------------
// Invalid values: every ConfigError starts with the key.

TEST_F(ConfigLoaderTest, PortMustBeAnIntegerInRange) {
  EXPECT_THAT(EnvError("SESSIOND_PORT", "abc"),
              StartsWith("port: expected an integer from 0 to 65535, got \"abc\""));
  EXPECT_THAT(EnvError("SESSIOND_PORT", "70000"),
              StartsWith("port: expected an integer from 0 to 65535, got \"70000\""));
  EXPECT_THAT(OverrideError("port", "12abc"), StartsWith("port: expected an integer"));
  EXPECT_THAT(OverrideError("port", "-1"), StartsWith("port: "));
  EXPECT_THAT(OverrideError("port", ""), StartsWith("port: "));
  EXPECT_THAT(OverrideError("port", "80.5"), StartsWith("port: "));
  EXPECT_THAT(LoadError(WithToml("port = 70000\n")),
              StartsWith("port: expected an integer from 0 to 65535, got 70000"));
}

TEST_F(ConfigLoaderTest, ErrorsSayWhereTheValueCameFrom) {
  EXPECT_THAT(EnvError("SESSIOND_PORT", "abc"), HasSubstr("SESSIOND_PORT"));
  EXPECT_THAT(OverrideError("port", "abc"), HasSubstr("command line"));
  EXPECT_THAT(LoadError(WithToml("\n\nport = \"x\"\n")), HasSubstr(".toml:3:"));
}

TEST_F(ConfigLoaderTest, IntegersMustFitTheirField) {
  EXPECT_THAT(OverrideError("threads", "-1"),
              StartsWith("threads: expected an integer from 0 to 4294967295"));
  EXPECT_THAT(OverrideError("threads", "4294967296"), StartsWith("threads: "));
  EXPECT_THAT(OverrideError("session.expiresIn", "99999999999999999999"),
              StartsWith("session.expiresIn: expected an integer"));
  EXPECT_THAT(LoadError(WithToml("limits.maxConnections = -5\n")),
              StartsWith("limits.maxConnections: expected an integer from 0 to 4294967295"));
  EXPECT_EQ(LoadWithOverride("limits.maxBodyBytes", "18446744073709551615").limits.max_body_bytes,
            18'446'744'073'709'551'615u);
}

TEST_F(ConfigLoaderTest, NegativeExpiresInIsRejected) {
  EXPECT_THAT(EnvError("SESSIOND_SESSION_EXPIRES_IN", "-1"), StartsWith("session.expiresIn: "));
  EXPECT_THAT(OverrideError("session.expiresIn", "0"), StartsWith("session.expiresIn: "));
}

TEST_F(ConfigLoaderTest, SameSiteMustBeKnown) {
  EXPECT_THAT(OverrideError("cookie.sameSite", "sideways"),
              StartsWith("cookie.sameSite: expected lax, strict or none, got \"sideways\""));
  EXPECT_EQ(LoadWithOverride("cookie.sameSite", "LAX").cookie.same_site, SameSite::kLax);
}

TEST_F(ConfigLoaderTest, BaseUrlMustBeAnHttpOrigin) {
  EXPECT_THAT(OverrideError("baseUrl", "ftp://x"), StartsWith("baseUrl: "));
  EXPECT_THAT(OverrideError("baseUrl", "auth.example.com"), StartsWith("baseUrl: "));
  EXPECT_THAT(OverrideError("baseUrl", "https://"), StartsWith("baseUrl: "));
  EXPECT_THAT(OverrideError("baseUrl", "https://example.com/api/auth"), StartsWith("baseUrl: "));
  EXPECT_THAT(OverrideError("baseUrl", "https://example.com?x=1"), StartsWith("baseUrl: "));
  EXPECT_THAT(OverrideError("baseUrl", "https://user@example.com"), StartsWith("baseUrl: "));
  EXPECT_THAT(OverrideError("baseUrl", "https://example.com:0"), StartsWith("baseUrl: "));
  EXPECT_EQ(LoadWithOverride("baseUrl", "http://localhost:3000/").base_url,
            "http://localhost:3000");
  EXPECT_EQ(LoadWithOverride("baseUrl", "https://[::1]:8443").base_url, "https://[::1]:8443");
  EXPECT_EQ(LoadWithOverride("baseUrl", "").base_url, "");
}

TEST_F(ConfigLoaderTest, TrustedOriginsMustBeOrigins) {
  EXPECT_THAT(OverrideError("trustedOrigins", "https://a.example.com/path"),
              StartsWith("trustedOrigins: \"https://a.example.com/path\" is not an origin"));
  EXPECT_THAT(OverrideError("trustedOrigins", "a.example.com"), StartsWith("trustedOrigins: "));
  EXPECT_THAT(LoadWithOverride("trustedOrigins", "myapp://callback,https://x.example.com:8443")
                  .trusted_origins,
              ElementsAre("myapp://callback", "https://x.example.com:8443"));
  EXPECT_THAT(LoadWithOverride("trustedOrigins", "https://*.example.com").trusted_origins,
              ElementsAre("https://*.example.com"));
  EXPECT_THAT(OverrideError("trustedOrigins", "https://*.example.com/path"),
              StartsWith("trustedOrigins: "));
}

TEST_F(ConfigLoaderTest, TrustedProxiesMustBeIpsOrCidrs) {
  EXPECT_THAT(LoadWithOverride("trustedProxies",
                               "192.168.0.1,10.0.0.0/8,0.0.0.0/0,::1,"
                               "2001:db8::/32,::ffff:10.0.0.1")
                  .trusted_proxies,
              ElementsAre("192.168.0.1", "10.0.0.0/8", "0.0.0.0/0", "::1", "2001:db8::/32",
                          "::ffff:10.0.0.1"));
  for (const char* bad : {"localhost", "256.0.0.1", "10.0.0", "10.0.0.0/33", "10.0.0.0/", "::1/129",
                          "1.2.3.4.5", "fe80::zz", "10.0.0.0/-1"}) {
    EXPECT_THAT(OverrideError("trustedProxies", bad), StartsWith("trustedProxies: ")) << bad;
  }
}

TEST_F(ConfigLoaderTest, UnknownTomlKeyIsAnError) {
  EXPECT_THAT(LoadError(WithToml("[session]\nexpiresInn = 5\n")),
              StartsWith("session.expiresInn: unknown key (did you mean session.expiresIn?)"));
  EXPECT_THAT(LoadError(WithToml("[session]\nexpires_in = 5\n")),
              StartsWith("session.expires_in: unknown key (did you mean session.expiresIn?)"));
  EXPECT_THAT(LoadError(WithToml("[sessions]\nexpiresIn = 5\n")),
              StartsWith("sessions: unknown key (did you mean session?)"));
  EXPECT_THAT(LoadError(WithToml("completelyDifferent = 1\n")),
              AllOf(StartsWith("completelyDifferent: unknown key"),
                    ::testing::Not(HasSubstr("did you mean"))));
}

TEST_F(ConfigLoaderTest, WrongTomlTypeIsAnError) {
  EXPECT_THAT(LoadError(WithToml("[session]\nexpiresIn = \"604800\"\n")),
              StartsWith("session.expiresIn: expected an integer, got a string"));
  EXPECT_THAT(LoadError(WithToml("port = 3000.0\n")), StartsWith("port: expected an integer"));
  EXPECT_THAT(LoadError(WithToml("host = 1\n")), StartsWith("host: expected a string"));
  EXPECT_THAT(LoadError(WithToml("cookie.httpOnly = \"yes\"\n")),
              StartsWith("cookie.httpOnly: expected a boolean"));
  EXPECT_THAT(LoadError(WithToml("trustedOrigins = \"https://a.example.com\"\n")),
              StartsWith("trustedOrigins: expected an array of strings"));
  EXPECT_THAT(LoadError(WithToml("trustedOrigins = [\"https://a.example.com\", 1]\n")),
              StartsWith("trustedOrigins: expected an array of strings"));
  EXPECT_THAT(LoadError(WithToml("session = 5\n")), StartsWith("session: expected a table"));
  EXPECT_THAT(LoadError(WithToml("[port]\nx = 1\n")), StartsWith("port: expected an integer"));
}

TEST_F(ConfigLoaderTest, TomlSyntaxErrorNamesFileLineAndColumn) {
  Sources sources = WithToml("port = 3000\nhost = \n");
  const std::string error = LoadError(sources);
  EXPECT_THAT(error, StartsWith(*sources.toml_path + ":2:"));
}

TEST_F(ConfigLoaderTest, UnreadableConfigFileNamesThePath) {
  Sources sources = MakeSources();
  sources.toml_path = ::testing::TempDir() + "/no-such-dir/sessiond.toml";
  EXPECT_THAT(LoadError(sources), AllOf(StartsWith(*sources.toml_path + ": cannot read"),
                                        HasSubstr("No such file or directory")));
  sources.toml_path = ::testing::TempDir();  // A directory.
  EXPECT_THAT(LoadError(sources), StartsWith(*sources.toml_path + ": cannot read"));
}

TEST_F(ConfigLoaderTest, UnknownOverrideKeyIsAnError) {
  EXPECT_THAT(OverrideError("prot", "80"), StartsWith("prot: unknown key (did you mean port?)"));
  EXPECT_THAT(OverrideError("session", "1"), StartsWith("session: unknown key"));
}

TEST_F(ConfigLoaderTest, Argon2BelowTheFloorNeedsTheTestVariable) {
  EXPECT_THAT(OverrideError("password.argon2MemoryKib", "1024"),
              StartsWith("password.argon2MemoryKib: must be at least 19456"));
  EXPECT_THAT(OverrideError("password.argon2Iterations", "1"),
              StartsWith("password.argon2Iterations: must be at least 2"));

  env_["SESSIOND_INSECURE_FAST_HASH_FOR_TESTS"] = "1";
  Sources sources = MakeSources();
  sources.overrides = {{"password.argon2MemoryKib", "8"}, {"password.argon2Iterations", "1"}};
  const Config c = Load(sources);
  EXPECT_EQ(c.password.argon2_memory_kib, 8u);
  EXPECT_EQ(c.password.argon2_iterations, 1u);
  // libsodium's own minimum still applies.
  EXPECT_THAT(OverrideError("password.argon2Iterations", "0"),
              StartsWith("password.argon2Iterations: "));

  env_["SESSIOND_INSECURE_FAST_HASH_FOR_TESTS"] = "0";
  EXPECT_THAT(OverrideError("password.argon2MemoryKib", "1024"),
              StartsWith("password.argon2MemoryKib: "));
}

TEST_F(ConfigLoaderTest, ShortSecretIsRejected) {
  EXPECT_THAT(EnvError("SESSIOND_SECRET", "too-short"),
              StartsWith("secret: must be at least 32 characters"));
  EXPECT_EQ(LoadWithOverride("secret", std::string(32, 'x')).secret, std::string(32, 'x'));
}

TEST_F(ConfigLoaderTest, UpdateAgeMustNotExceedExpiresIn) {
  Sources sources = MakeSources();
  sources.overrides = {{"session.expiresIn", "100"}, {"session.updateAge", "101"}};
  EXPECT_THAT(LoadError(sources), StartsWith("session.updateAge: must not exceed"));
  sources.overrides.back().second = "100";
  EXPECT_NO_THROW((void)Load(sources));
}

TEST_F(ConfigLoaderTest, SameSiteNoneRequiresSecure) {
  Sources sources = MakeSources();
  sources.overrides = {{"cookie.sameSite", "none"}, {"cookie.secure", "false"}};
  EXPECT_THAT(LoadError(sources), StartsWith("cookie.sameSite: "));
  sources.overrides.back().second = "auto";  // With an http baseUrl: not Secure.
  EXPECT_THAT(LoadError(sources), StartsWith("cookie.sameSite: "));
  sources.overrides.emplace_back("baseUrl", "https://auth.example.com");
  EXPECT_NO_THROW((void)Load(sources));
  sources.overrides.pop_back();
  sources.overrides.back().second = "true";
  EXPECT_NO_THROW((void)Load(sources));
}

TEST_F(ConfigLoaderTest, OtherValidationRulesNameTheirKey) {
  const std::vector<std::pair<std::pair<std::string, std::string>, std::string>> cases = {
      {{"limits.maxBodyBytes", "1023"}, "limits.maxBodyBytes: "},
      {{"limits.maxHeaderBytes", "100"}, "limits.maxHeaderBytes: "},
      {{"limits.readTimeoutMs", "0"}, "limits.readTimeoutMs: "},
      {{"limits.idleTimeoutMs", "0"}, "limits.idleTimeoutMs: "},
      {{"limits.maxConnections", "0"}, "limits.maxConnections: "},
      {{"limits.shutdownGraceMs", "0"}, "limits.shutdownGraceMs: "},
      {{"database.synchronous", "off"}, "database.synchronous: "},
      {{"session.updateAge", "-1"}, "session.updateAge: "},
      {{"session.dontRememberExpiresIn", "0"}, "session.dontRememberExpiresIn: "},
      {{"session.sweepInterval", "-1"}, "session.sweepInterval: "},
      {{"cookie.path", "auth"}, "cookie.path: "},
      {{"cookie.prefix", "my app"}, "cookie.prefix: "},
      {{"cookie.expires", "-1"}, "cookie.expires: "},
      {{"cookie.pathSuccess", "//evil.example"}, "cookie.pathSuccess: "},
      {{"cookie.pathLoggedOut", "javascript:alert(1)"}, "cookie.pathLoggedOut: "},
      {{"password.minLength", "0"}, "password.minLength: "},
      {{"password.maxLength", "7"}, "password.maxLength: "},
      {{"password.maxLength", "4097"}, "password.maxLength: "},
      {{"log.level", "verbose"}, "log.level: "},
      {{"host", ""}, "host: "},
      {{"dataDir", ""}, "dataDir: "},
  };
  for (const auto& [setting, prefix] : cases) {
    EXPECT_THAT(OverrideError(setting.first, setting.second), StartsWith(prefix))
        << setting.first << "=" << setting.second;
  }
}

TEST_F(ConfigLoaderTest, ValidateChecksAHandBuiltConfig) {
  Config config;
  config.port = 0;
  EXPECT_NO_THROW(Validate(config, MakeSources()));
  config.session.update_age = config.session.expires_in + 1;
  EXPECT_THROW(Validate(config, MakeSources()), ConfigError);
}

TEST_F(ConfigLoaderTest, RateLimitStorageAndRedis) {
  Config c = Load(MakeSources());
  EXPECT_EQ(c.rate_limit.storage, "memory");
  EXPECT_EQ(c.redis.url, "redis://127.0.0.1:6379/0");
  EXPECT_EQ(c.redis.timeout_ms, 200u);
  EXPECT_EQ(c.redis.pool_size, 0u);

  c =
      Load(WithToml("[rateLimit]\nstorage = \"Redis\"\n[redis]\n"
                    "url = \"redis://:pw@cache.internal:6380/2\"\ntimeoutMs = 50\npoolSize = 8\n"));
  EXPECT_EQ(c.rate_limit.storage, "redis");  // Choices are stored as the table spells them.
  EXPECT_EQ(c.redis.url, "redis://:pw@cache.internal:6380/2");
  EXPECT_EQ(c.redis.timeout_ms, 50u);
  EXPECT_EQ(c.redis.pool_size, 8u);
  EXPECT_EQ(LoadWithOverride("redis.url", "unix:///run/redis/redis.sock").redis.url,
            "unix:///run/redis/redis.sock");

  EXPECT_THAT(OverrideError("rateLimit.storage", "memcached"),
              StartsWith("rateLimit.storage: expected memory or redis"));
  EXPECT_THAT(EnvError("SESSIOND_REDIS_URL", "rediss://host"), StartsWith("redis.url: "));
  EXPECT_THAT(OverrideError("redis.url", "redis://host:0"), StartsWith("redis.url: "));
  // The error explains the form but never repeats the URL: it may hold a password.
  const std::string error = OverrideError("redis.url", "redis://:topsecretpw@bad host/0");
  EXPECT_THAT(error, StartsWith("redis.url: "));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("topsecretpw")));
  EXPECT_THAT(OverrideError("redis.timeoutMs", "0"), StartsWith("redis.timeoutMs: "));
  EXPECT_THAT(OverrideError("redis.timeoutMs", "60001"), StartsWith("redis.timeoutMs: "));
  EXPECT_THAT(OverrideError("redis.poolSize", "257"), StartsWith("redis.poolSize: "));
}

TEST_F(ConfigLoaderTest, SessionCacheAndReplication) {
  Config c = Load(MakeSources());
  EXPECT_TRUE(c.session_cache.enabled);
  EXPECT_EQ(c.session_cache.max_age, 5);
  EXPECT_EQ(c.session_cache.max_entries, 50'000u);
  EXPECT_EQ(c.replication.poll_interval_ms, 1'000u);

  c =
      Load(WithToml("[sessionCache]\nenabled = false\nmaxAge = 30\nmaxEntries = 10\n"
                    "[replication]\npollIntervalMs = 250\n"));
  EXPECT_FALSE(c.session_cache.enabled);
  EXPECT_EQ(c.session_cache.max_age, 30);
  EXPECT_EQ(c.session_cache.max_entries, 10u);
  EXPECT_EQ(c.replication.poll_interval_ms, 250u);
  EXPECT_FALSE(LoadWithOverride("sessionCache.enabled", "false").session_cache.enabled);

  EXPECT_THAT(OverrideError("sessionCache.maxAge", "0"), StartsWith("sessionCache.maxAge: "));
  EXPECT_THAT(OverrideError("sessionCache.maxAge", "3601"), StartsWith("sessionCache.maxAge: "));
  EXPECT_THAT(OverrideError("sessionCache.maxEntries", "0"),
              StartsWith("sessionCache.maxEntries: "));
  EXPECT_THAT(EnvError("SESSIOND_REPLICATION_POLL_INTERVAL_MS", "9"),
              StartsWith("replication.pollIntervalMs: "));
  EXPECT_THAT(OverrideError("replication.pollIntervalMs", "60001"),
              StartsWith("replication.pollIntervalMs: "));
}

}  // namespace
}  // namespace sessiond::config
