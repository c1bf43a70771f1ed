// The whole configuration: one plain struct with documented defaults. Loaded by
// config_loader.h from a TOML file, then SESSIOND_* environment variables, then flags (each
// layer overrides the one before). docs/configuration.md lists every key; the key table in
// config_loader.cc is the single source of the names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sessiond::config {

enum class SameSite { kLax, kStrict, kNone };
enum class Tristate { kAuto, kOn, kOff };

struct Limits {
  std::uint32_t max_header_bytes = 8 * 1024;    // Request line + headers; over → 431.
  std::uint64_t max_body_bytes = 64ULL * 1024;  // Over → 413. Auth bodies are tiny.
  std::uint32_t read_timeout_ms = 10'000;       // Whole request must arrive within this.
  std::uint32_t idle_timeout_ms = 65'000;       // Keep-alive connection idle before close.
  std::uint32_t max_connections = 10'000;       // Further connections are closed at accept.
  std::uint32_t shutdown_grace_ms = 10'000;     // In-flight requests get this long on SIGTERM.
};

struct Database {
  std::string url;                   // "" → SQLite file <data_dir>/sessiond.db.
  std::string synchronous = "full";  // SQLite PRAGMA synchronous: full | normal.
  std::uint32_t busy_timeout_ms = 5'000;
  std::uint32_t pool_size = 0;                 // Connections; 0 = 2 x CPU cores (at least 2).
  std::uint32_t connect_timeout_ms = 5'000;    // PostgreSQL: establishing a connection.
  std::uint32_t statement_timeout_ms = 5'000;  // PostgreSQL: statement_timeout.
};

struct Session {
  std::int64_t expires_in = 604'800;               // Seconds a session lives (7 days).
  std::int64_t update_age = 86'400;                // Slide expiry when older than this (1 day).
  std::int64_t dont_remember_expires_in = 86'400;  // Lifetime with rememberMe:false (1 day).
  std::int64_t sweep_interval = 3'600;             // Seconds between expired-row sweeps; 0 = off.
  std::uint32_t max_user_agent_length = 512;       // Longer user agents are cut to this.
  std::int64_t absolute_lifetime = 2'592'000;      // No session outlives this (30 days); 0 = off.
  std::int64_t idle_timeout = 0;                   // End a session unused this long; 0 = off.
};

struct RateLimit {
  bool enabled = true;             // Off only for test and benchmark set-ups.
  std::vector<std::string> rules;  // Empty → ratelimit::DefaultRules() (see docs).
  std::string storage = "memory";  // memory (per process) | redis (shared by replicas).
};

struct Redis {
  std::string url = "redis://127.0.0.1:6379/0";  // redis://[[user]:pw@]host[:port][/db], unix://.
  std::uint32_t timeout_ms = 200;  // Deadline of one call (connect included); then fall back.
  std::uint32_t pool_size = 0;     // Connections per process; 0 = 2 x CPU cores (at least 2).
};

struct CookieCache {
  bool enabled = false;        // A signed session_data cookie answers get-session without the DB.
  std::int64_t max_age = 300;  // Seconds a cached cookie is trusted (seed 002: 5 minutes).
};

// The in-process session cache (SessionService::Validate): get-session off the database on the
// hot path. Revocations reach it at once (in memory, and from other replicas via the revocation
// feed); what no revocation changes (a user's name or image changed on another replica) is stale
// for at most max_age.
struct SessionCache {
  bool enabled = true;
  std::int64_t max_age = 5;            // Seconds an entry answers after its database read.
  std::uint32_t max_entries = 50'000;  // Bound per process (about 1.7 KB each: 85 MB).
};

// Following the revocations other processes on the same database make.
struct Replication {
  // Read the revocation feed at least this often (ms). The fallback to PostgreSQL's
  // LISTEN/NOTIFY, and the only path for several processes on one SQLite file.
  std::uint32_t poll_interval_ms = 1'000;
};

struct OneTimeToken {
  std::int64_t expires_in = 180;  // Seconds a one-time token can be spent (Better Auth: 3 min).
};

struct Jwt {
  std::string algorithm = "EdDSA";     // EdDSA | ES256 | RS256 | HS256 | HS384 | HS512.
  std::int64_t expires_in = 900;       // Access-token lifetime in seconds (15 minutes).
  std::string issuer;                  // "" → baseUrl.
  std::string audience;                // "" → baseUrl.
  std::vector<std::string> fields;     // User fields copied into the token (bknd `fields`).
  std::int64_t rotation_interval = 0;  // Seconds between automatic key rotations; 0 = never.
  bool get_session_header = false;     // get-session also sends a fresh JWT in set-auth-jwt.
};

struct Cookie {
  std::string prefix = "better-auth";  // Cookie names are "<prefix>.session_token" etc.
  Tristate secure = Tristate::kAuto;   // auto: Secure (+ __Secure- prefix) iff base_url is https.
  bool http_only = true;
  SameSite same_site = SameSite::kLax;
  std::string path = "/";
  std::int64_t expires = 0;           // Cookie Max-Age seconds; 0 → session.expires_in.
  bool renew = true;                  // Re-set the cookie when the session slides.
  std::string path_success = "/";     // Redirect after a form sign-in / sign-up.
  std::string path_logged_out = "/";  // Redirect after a form sign-out.
};

struct Password {
  std::uint32_t min_length = 8;
  std::uint32_t max_length = 128;
  std::uint64_t argon2_memory_kib = 19ULL * 1024;  // OWASP floor: 19 MiB.
  std::uint64_t argon2_iterations = 2;             // OWASP floor: 2.
};

struct Log {
  std::string level = "info";  // trace | debug | info | warn | error | off.
};

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3000;                 // 0 = any free port (printed at start-up).
  std::string base_url;                      // "" → http://<host>:<port>.
  std::uint32_t threads = 0;                 // 0 = number of cores.
  std::vector<std::string> trusted_origins;  // Besides base_url's origin.
  std::vector<std::string> trusted_proxies;  // IPs / CIDRs whose X-Forwarded-For is believed.
  std::string data_dir = "./data";
  std::string secret;  // "" → generated dev secret in <data_dir>/dev-secret (with a warning).
  Limits limits;
  Database database;
  Session session;
  Cookie cookie;
  Password password;
  RateLimit rate_limit;
  Redis redis;
  CookieCache cookie_cache;
  SessionCache session_cache;
  Replication replication;
  Jwt jwt;
  OneTimeToken one_time_token;
  Log log;
};

}  // namespace sessiond::config
