#include "app/app.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "app/dev_secret.h"
#include "crypto/crypto.h"
#include "crypto/password_hasher.h"
#include "http/router.h"
#include "http/server.h"
#include "jwt/algorithm.h"
#include "jwt/key.h"
#include "jwt/key_set.h"
#include "ratelimit/memory_counter_store.h"
#include "ratelimit/rate_limiter.h"
#include "ratelimit/redis_counter_store.h"
#include "ratelimit/redis_url.h"
#include "ratelimit/rule.h"
#include "routes/access_tokens.h"
#include "routes/auth_routes.h"
#include "routes/cookie_cache.h"
#include "routes/health_routes.h"
#include "routes/origin_check.h"
#include "routes/revocation_routes.h"
#include "routes/route_context.h"
#include "routes/session_cookies.h"
#include "routes/session_routes.h"
#include "routes/token_routes.h"
#include "session/revocation_follower.h"
#include "session/session_service.h"
#include "store/postgres/pg_listener.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "token/session_token.h"
#include "useragent/useragent.h"

namespace sessiond::app {
namespace {

void SetUpLogging(const config::Config& config) {
  auto logger = spdlog::stderr_color_mt("sessiond");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(config.log.level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
}

// The SQLite file a database URL names: "" → <data_dir>/sessiond.db; "sqlite:PATH",
// "sqlite://PATH" and "file:PATH" → PATH. Other schemes are not (yet) supported.
Result<std::string> SqlitePath(const config::Config& config) {
  const std::string& url = config.database.url;
  if (url.empty()) return (std::filesystem::path(config.data_dir) / "sessiond.db").string();
  for (const std::string_view scheme : {"sqlite://", "sqlite:", "file:"}) {
    if (url.starts_with(scheme) && url.size() > scheme.size()) return url.substr(scheme.size());
  }
  return Fail(ErrorCode::kValidation,
              "database.url: unsupported scheme (supported: postgres://, postgresql://, "
              "sqlite:PATH, file:PATH)");
}

// postgres:// and postgresql:// (libpq's two URI schemes) select PostgreSQL.
bool IsPostgresUrl(const std::string& url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

Result<std::unique_ptr<store::Store>> OpenPostgresStore(const config::Config& config) {
  auto opened =
      store::PostgresStore::Open({.url = config.database.url,
                                  .pool_size = config.database.pool_size,
                                  .pool_timeout_ms = config.database.busy_timeout_ms,
                                  .connect_timeout_ms = config.database.connect_timeout_ms,
                                  .statement_timeout_ms = config.database.statement_timeout_ms});
  if (!opened) return std::unexpected(opened.error());
  auto migrated = (*opened)->Migrate();
  if (!migrated) return std::unexpected(migrated.error());
  // server() names host, port and database only: the URL may hold a password.
  spdlog::info("store: postgres {} (schema v{}, pool of {})", (*opened)->server(), *migrated,
               (*opened)->pool_size());
  return std::unique_ptr<store::Store>(std::move(*opened));
}

Result<std::unique_ptr<store::Store>> OpenStore(const config::Config& config) {
  if (IsPostgresUrl(config.database.url)) return OpenPostgresStore(config);
  auto path = SqlitePath(config);
  if (!path) return std::unexpected(path.error());
  std::error_code ec;
  const auto parent = std::filesystem::path(*path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  auto opened = store::SqliteStore::Open({.path = *path,
                                          .synchronous = config.database.synchronous,
                                          .busy_timeout_ms = config.database.busy_timeout_ms,
                                          .pool_size = config.database.pool_size});
  if (!opened) return std::unexpected(opened.error());
  auto migrated = (*opened)->Migrate();
  if (!migrated) return std::unexpected(migrated.error());
  spdlog::info("store: sqlite {} (schema v{})", *path, *migrated);
  return std::unique_ptr<store::Store>(std::move(*opened));
}

// redis.poolSize, 0 = twice the cores: the I/O threads plus the blocking pool (cores each by
// default) are every thread that can check a limit at once, so no call waits for a connection.
std::size_t RedisPoolSize(const config::Config& config) {
  if (config.redis.pool_size != 0) return config.redis.pool_size;
  const auto cores = static_cast<std::size_t>(std::thread::hardware_concurrency());
  return std::max<std::size_t>(2, 2 * cores);
}

// rateLimit.storage = "redis": counters in Redis, shared by every replica, with `memory`
// answering while Redis is down (ratelimit/redis_counter_store.h). nullptr for "memory", or when
// rate limiting is off. Start-up does not wait for Redis: if it does not answer now, the store
// has logged a warning and counts in memory until it does.
Result<std::unique_ptr<ratelimit::RedisCounterStore>> OpenRedisCounters(
    const config::Config& config, ratelimit::CounterStore& memory) {
  if (config.rate_limit.storage != "redis" || !config.rate_limit.enabled) return nullptr;
  auto endpoint = ratelimit::ParseRedisUrl(config.redis.url);
  if (!endpoint) return std::unexpected(endpoint.error());
  auto store = std::make_unique<ratelimit::RedisCounterStore>(
      ratelimit::RedisCounterStore::Options{.endpoint = *endpoint,
                                            .timeout = milliseconds(config.redis.timeout_ms),
                                            .pool_size = RedisPoolSize(config)},
      memory);
  if (store->Ping()) {
    spdlog::info("rate limit: counters in Redis at {}, shared by every replica",
                 endpoint->Redacted());
  }
  return store;
}

Result<std::string> ResolveSecret(const config::Config& config, Random& random) {
  if (!config.secret.empty()) return config.secret;
  auto secret = LoadOrCreateDevSecret(config.data_dir, random);
  if (!secret) return secret;
  spdlog::warn("!!! No secret configured: using the DEVELOPMENT secret in {}/dev-secret.",
               config.data_dir);
  spdlog::warn("!!! Anyone who can read that file can forge session cookies. Production MUST set");
  spdlog::warn("!!! its own secret: SESSIOND_SECRET (at least 32 random characters).");
  return secret;
}

std::filesystem::path KeyFile(const config::Config& config) {
  return std::filesystem::path(config.data_dir) / "jwt-keys.json";
}

// The JWT signing keys. Asymmetric algorithms: a sealed key file in the data folder, created on
// first start (and switched to the configured algorithm by a rotation if it changed). HS*: the
// server secret itself is the shared key (backends verify with the same secret, as bknd does).
// For serving: a key file sealed under another secret is set aside and fresh keys are made
// (`keys rotate` loads the file itself and never does that).
Result<jwt::KeySet> LoadKeys(const config::Config& config, const std::string& secret,
                             Random& random, TimePoint now) {
  const auto algorithm = jwt::ParseAlgorithm(config.jwt.algorithm);
  if (!algorithm) return Fail(ErrorCode::kValidation, "jwt.algorithm: unknown");
  if (jwt::IsSymmetric(*algorithm)) {
    // RFC 7518 §3.2: the key must be at least as long as the hash output.
    if (secret.size() < jwt::MinHmacKeyBytes(*algorithm)) {
      return Fail(ErrorCode::kValidation,
                  "jwt.algorithm: " + config.jwt.algorithm + " needs a secret of at least " +
                      std::to_string(jwt::MinHmacKeyBytes(*algorithm)) + " bytes");
    }
    auto key = jwt::Key::FromSharedSecret(*algorithm, secret, "shared-secret", now);
    if (!key) return std::unexpected(key.error());
    return jwt::KeySet(std::move(*key));
  }
  auto keys = jwt::KeySet::LoadOrCreateFile(KeyFile(config), secret, *algorithm, random, now);
  if (!keys && keys.error().code == ErrorCode::kInternal) {
    // Sealed under another secret (SESSIOND_SECRET changed) or damaged: those keys cannot be
    // used again, so keep the file for inspection and start a fresh key set. Tokens they signed
    // stop verifying, as cookies signed with the old secret do.
    const std::filesystem::path aside =
        KeyFile(config).string() + ".unreadable-" + std::to_string(ToUnixMillis(now));
    std::error_code ec;
    std::filesystem::rename(KeyFile(config), aside, ec);
    if (ec) return keys;
    spdlog::warn("jwt: {} (moved to {}); created new signing keys", keys.error().detail,
                 aside.string());
    keys = jwt::KeySet::LoadOrCreateFile(KeyFile(config), secret, *algorithm, random, now);
  }
  if (!keys) return keys;
  if (keys->Active()->algorithm() != *algorithm) {
    auto rotated = keys->Rotate(random, now, seconds(config.jwt.expires_in), *algorithm);
    if (!rotated) return std::unexpected(rotated.error());
    if (auto saved = keys->SaveToFile(KeyFile(config), secret); !saved) {
      return std::unexpected(saved.error());
    }
  }
  return keys;
}

std::string BaseUrl(const config::Config& config, std::uint16_t port) {
  if (!config.base_url.empty()) return config.base_url;
  return "http://" + config.host + ":" + std::to_string(port);
}

// The user agent in Agnost's shape, as JSON text stored with the session at sign-in.
std::string DescribeUserAgent(std::string_view user_agent) {
  const useragent::UserAgent ua = useragent::Parser::Default().Parse(user_agent);
  boost::json::object o{
      {"family", ua.family}, {"major", ua.major}, {"minor", ua.minor}, {"patch", ua.patch}};
  o["device"] = {
      {"family", ua.device.family}, {"brand", ua.device.brand}, {"model", ua.device.model}};
  o["os"] = {{"family", ua.os.family},
             {"major", ua.os.major},
             {"minor", ua.os.minor},
             {"patch", ua.os.patch}};
  return boost::json::serialize(o);
}

std::string SameSiteName(config::SameSite s) {
  switch (s) {
    case config::SameSite::kStrict:
      return "Strict";
    case config::SameSite::kNone:
      return "None";
    case config::SameSite::kLax:
      break;
  }
  return "Lax";
}

// Keeps the served keys current: picks up a key file rewritten by `sessiond keys rotate`
// (checked every few seconds), and rotates on jwt.rotationInterval when it is set.
void WatchKeys(http::Server& server, const config::Config& config, const std::string& secret,
               Random& random, const Clock& clock, routes::AccessTokens& tokens) {
  if (jwt::IsSymmetric(*jwt::ParseAlgorithm(config.jwt.algorithm))) return;
  const std::filesystem::path path = KeyFile(config);
  auto mtime = std::make_shared<std::filesystem::file_time_type>();
  std::error_code ec;
  *mtime = std::filesystem::last_write_time(path, ec);
  server.Every(seconds(5), [path, mtime, &config, &secret, &random, &clock, &tokens] {
    if (config.jwt.rotation_interval > 0) {
      if (auto current = jwt::KeySet::LoadFromFile(path, secret); current) {
        auto rotated =
            current->RotateIfDue(random, clock.Now(), seconds(config.jwt.rotation_interval),
                                 seconds(config.jwt.expires_in));
        current->Prune(clock.Now());
        if (rotated && *rotated && current->SaveToFile(path, secret)) {
          spdlog::info("jwt: rotated the signing key (jwt.rotationInterval)");
        }
      }
    }
    std::error_code error;
    const auto now_mtime = std::filesystem::last_write_time(path, error);
    if (error || now_mtime == *mtime) return;
    if (auto reloaded = jwt::KeySet::LoadFromFile(path, secret); reloaded) {
      *mtime = now_mtime;
      tokens.Replace(std::make_shared<jwt::KeySet>(std::move(*reloaded)));
      spdlog::info("jwt: reloaded signing keys from {}", path.string());
    } else {
      spdlog::warn("jwt: cannot reload {}: {}", path.string(), reloaded.error().detail);
    }
  });
}

}  // namespace

int RotateKeys(const config::Config& config) {
  SetUpLogging(config);
  if (!crypto::Init()) return kExitFailure;
  SystemClock clock;
  crypto::SodiumRandom random;
  auto secret = ResolveSecret(config, random);
  if (!secret) {
    spdlog::error("no secret: {}", secret.error().detail);
    return kExitFailure;
  }
  const auto algorithm = jwt::ParseAlgorithm(config.jwt.algorithm);
  if (jwt::IsSymmetric(*algorithm)) {
    spdlog::error("jwt.algorithm {} uses the server secret; rotate SESSIOND_SECRET instead",
                  config.jwt.algorithm);
    return kExitUsage;
  }
  // Load as stored (no algorithm switch here: the one Rotate below does it), never resetting.
  auto keys =
      jwt::KeySet::LoadOrCreateFile(KeyFile(config), *secret, *algorithm, random, clock.Now());
  if (!keys) {
    spdlog::error("cannot load keys: {}", keys.error().detail);
    return kExitFailure;
  }
  auto rotated = keys->Rotate(random, clock.Now(), seconds(config.jwt.expires_in), *algorithm);
  if (!rotated) {
    spdlog::error("rotation failed: {}", rotated.error().detail);
    return kExitFailure;
  }
  keys->Prune(clock.Now());
  if (auto saved = keys->SaveToFile(KeyFile(config), *secret); !saved) {
    spdlog::error("cannot save {}: {}", KeyFile(config).string(), saved.error().detail);
    return kExitFailure;
  }
  (void)std::printf("rotated: new signing key %s (%s); running servers pick it up within 5 s\n",
                    keys->Active()->kid().c_str(), config.jwt.algorithm.c_str());
  return kExitOk;
}

int Migrate(const config::Config& config) {
  SetUpLogging(config);
  if (!crypto::Init()) return kExitFailure;
  auto opened = OpenStore(config);
  if (!opened) {
    spdlog::error("migrate failed: {}", opened.error().detail);
    return opened.error().code == ErrorCode::kValidation ? kExitUsage : kExitFailure;
  }
  std::printf("migrations applied\n");
  return kExitOk;
}

int Serve(const config::Config& config) {
  SetUpLogging(config);
  if (!crypto::Init()) {
    spdlog::critical("libsodium failed to initialise");
    return kExitFailure;
  }
  SystemClock clock;
  crypto::SodiumRandom random;

  auto opened = OpenStore(config);
  if (!opened) {
    spdlog::critical("cannot open the store: {}", opened.error().detail);
    return opened.error().code == ErrorCode::kValidation ? kExitUsage : kExitFailure;
  }
  store::Store& store = **opened;

  auto secret = ResolveSecret(config, random);
  if (!secret) {
    spdlog::critical("no secret: {}", secret.error().detail);
    return kExitFailure;
  }
  const token::TokenSigner signer(*secret);
  const crypto::PasswordHasher hasher({.memory_kib = config.password.argon2_memory_kib,
                                       .iterations = config.password.argon2_iterations});

  const auto handle_key = crypto::HmacSha256(*secret, "sessiond/revocation-handle/v1");
  session::SessionService sessions(
      store, hasher, clock, random,
      {.expires_in = seconds(config.session.expires_in),
       .update_age = seconds(config.session.update_age),
       .dont_remember_expires_in = seconds(config.session.dont_remember_expires_in),
       .min_password_length = config.password.min_length,
       .max_password_length = config.password.max_length,
       .max_user_agent_length = config.session.max_user_agent_length,
       .absolute_lifetime = seconds(config.session.absolute_lifetime),
       .idle_timeout = seconds(config.session.idle_timeout),
       .handle_key = std::string(handle_key.begin(), handle_key.end()),
       .describe_user_agent = &DescribeUserAgent,
       // Long enough for anything that still vouches for a revoked session: an access token
       // (plus verifiers' leeway), a cached session cookie and an in-process cache entry.
       .revocation_retention = seconds(std::max({config.jwt.expires_in, config.cookie_cache.max_age,
                                                 config.session_cache.max_age}) +
                                       60),
       .one_time_token_lifetime = seconds(config.one_time_token.expires_in),
       .cache_enabled = config.session_cache.enabled,
       .cache_max_age = seconds(config.session_cache.max_age),
       .cache_max_entries = config.session_cache.max_entries});

  // Revocations made by other processes on this database (replicas on PostgreSQL, processes
  // sharing one SQLite file): the whole retained feed now, so IsRevoked knows what happened
  // before this start, then followed — woken by PostgreSQL's NOTIFY (PgListener), and polled every
  // replication.pollIntervalMs in any case. On PostgreSQL the caches are trusted only while the
  // notification connection is up (docs/deployment.md, "Consistency model").
  const bool postgres = IsPostgresUrl(config.database.url);
  session::RevocationFollower follower(
      sessions, {.poll_interval = milliseconds(config.replication.poll_interval_ms),
                 .wait_for_notifications = postgres});
  if (auto loaded = follower.CatchUp(); !loaded) {
    spdlog::critical("cannot read the revocation feed: {}", loaded.error().detail);
    return kExitFailure;
  }
  follower.Start();
  std::optional<store::PgListener> listener;  // Destroyed (stopped) before the follower.
  if (postgres) {
    listener.emplace(
        store::PgListenerOptions{
            .url = config.database.url,
            .connect_timeout = milliseconds(config.database.connect_timeout_ms),
            .statement_timeout = milliseconds(config.database.statement_timeout_ms)},
        // The notice names the sessions: they are refused from now on, before the feed is
        // read (the follower's read then advances its cursor past them).
        [&follower](const std::vector<std::string>& payloads) {
          for (const std::string& payload : payloads) {
            if (auto notice = store::ParseRevocationNotice(payload)) {
              follower.Apply(notice->session_ids, notice->at);
            }
          }
          follower.Wake();
        },
        [&follower](bool listening) { follower.SetNotificationsConnected(listening); });
    listener->Start();
  }

  http::ServerOptions server_options{
      .host = config.host,
      .port = config.port,
      .threads = config.threads,
      .blocking_threads = 0,
      .max_header_bytes = config.limits.max_header_bytes,
      .max_body_bytes = config.limits.max_body_bytes,
      .read_timeout_ms = config.limits.read_timeout_ms,
      .idle_timeout_ms = config.limits.idle_timeout_ms,
      .max_connections = config.limits.max_connections,
      .shutdown_grace_ms = config.limits.shutdown_grace_ms,
      .trusted_proxies = config.trusted_proxies,
  };
  http::Router router;
  http::Server server(server_options, router);
  if (auto listening = server.Listen(); !listening) {
    spdlog::critical("cannot listen on {}:{}: {}", config.host, config.port,
                     listening.error().detail);
    return kExitFailure;
  }

  // The base URL (and so the trusted origin and the cookie's Secure default) may depend on the
  // port actually bound.
  const std::string base_url = BaseUrl(config, server.port());
  const bool https = base_url.starts_with("https://");
  const bool secure = config.cookie.secure == config::Tristate::kAuto
                          ? https
                          : config.cookie.secure == config::Tristate::kOn;
  const routes::SessionCookies cookies(
      {.prefix = config.cookie.prefix,
       .secure = secure,
       .http_only = config.cookie.http_only,
       .same_site = SameSiteName(config.cookie.same_site),
       .path = config.cookie.path,
       .max_age = config.cookie.expires > 0 ? config.cookie.expires : config.session.expires_in,
       .renew = config.cookie.renew},
      signer);
  std::vector<std::string> trusted = config.trusted_origins;
  trusted.push_back(base_url);
  const routes::OriginCheck origin_check(trusted);
  // The cookie cache signs session_data with the server secret, as Better Auth does. Copies made
  // before this start are not trusted (see CookieCacheOptions::not_before).
  std::optional<routes::CookieCache> cookie_cache;
  if (config.cookie_cache.enabled) {
    cookie_cache.emplace(routes::CookieCacheOptions{.max_age = seconds(config.cookie_cache.max_age),
                                                    .not_before = clock.Now()},
                         *secret, cookies.options(), clock);
  }

  auto rules = config.rate_limit.rules.empty()
                   ? Result<std::vector<ratelimit::Rule>>(ratelimit::DefaultRules())
                   : ratelimit::ParseRules(config.rate_limit.rules);
  if (!rules) {  // Config validation parsed them already; this is belt and braces.
    spdlog::critical("rateLimit.rules: {}", rules.error().detail);
    return kExitUsage;
  }
  ratelimit::MemoryCounterStore counters;  // Per process; Redis' fallback with storage=redis.
  auto redis_counters = OpenRedisCounters(config, counters);
  if (!redis_counters) {  // Config validation parsed the URL already; belt and braces.
    spdlog::critical("redis.url: {}", redis_counters.error().detail);
    return kExitUsage;
  }
  ratelimit::CounterStore& counter_store =
      *redis_counters ? static_cast<ratelimit::CounterStore&>(**redis_counters) : counters;
  ratelimit::RateLimiter limiter(std::move(*rules), counter_store, clock,
                                 config.rate_limit.enabled);
  if (!config.rate_limit.enabled) spdlog::warn("rate limiting is OFF (rateLimit.enabled=false)");

  auto keys = LoadKeys(config, *secret, random, clock.Now());
  if (!keys) {
    spdlog::critical("cannot load the JWT signing keys: {}", keys.error().detail);
    return keys.error().code == ErrorCode::kValidation ? kExitUsage : kExitFailure;
  }
  routes::AccessTokens tokens(
      std::make_shared<jwt::KeySet>(std::move(*keys)), clock, random,
      {.issuer = config.jwt.issuer.empty() ? base_url : config.jwt.issuer,
       .audience = config.jwt.audience.empty() ? base_url : config.jwt.audience,
       .lifetime = seconds(config.jwt.expires_in),
       .fields = config.jwt.fields});

  const auto route_context = std::make_shared<const routes::RouteContext>(
      routes::RouteContext{.sessions = sessions,
                           .cookies = cookies,
                           .origin_check = origin_check,
                           .limiter = &limiter,
                           .options = {.path_success = config.cookie.path_success,
                                       .path_logged_out = config.cookie.path_logged_out},
                           .tokens = &tokens,
                           .get_session_jwt = config.jwt.get_session_header,
                           .cookie_cache = cookie_cache ? &*cookie_cache : nullptr});
  routes::AddHealthRoutes(router, store, &sessions);
  routes::AddAuthRoutes(router, route_context);
  routes::AddSessionRoutes(router, route_context);
  routes::AddTokenRoutes(router, route_context);
  routes::AddRevocationRoutes(router, route_context);
  WatchKeys(server, config, *secret, random, clock, tokens);
  server.Every(seconds(60), [&counters, &clock] { (void)counters.Sweep(clock.Now()); });

  if (config.session.sweep_interval > 0) {
    server.Every(seconds(config.session.sweep_interval), [&sessions] {
      auto swept = sessions.SweepExpired();
      if (!swept) {
        spdlog::warn("sweep failed: {}", swept.error().detail);
      } else if (*swept > 0) {
        spdlog::info("sweep: deleted {} expired sessions", *swept);
      }
    });
  }

  spdlog::info("sessiond listening on {} (base URL {})", server.port(), base_url);
  std::printf("sessiond listening on http://%s:%u\n", config.host.c_str(),
              static_cast<unsigned>(server.port()));
  (void)std::fflush(stdout);
  server.Run(/*handle_signals=*/true);
  if (listener) listener->Stop();
  follower.Stop();
  spdlog::info("sessiond stopped");
  return kExitOk;
}

}  // namespace sessiond::app
