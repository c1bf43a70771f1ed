// sessiond::verifier: verify sessiond's JWT access tokens inside a C++ backend, without a call
// to sessiond per request.
//
//   auto verifier = sessiond::verifier::Verifier::Create({.base_url = "http://127.0.0.1:3000",
//                                                         .issuer = "http://127.0.0.1:3000",
//                                                         .audience = "http://127.0.0.1:3000"});
//   verifier->Start();                         // background thread: JWKS + revocation feed
//   verifier->WaitUntilReady(std::chrono::seconds(5));
//   auto claims = verifier->Verify(jwt);       // thread-safe, no network on the hot path
//   if (!claims) reject(VerifyErrorName(claims.error().error));
//
// What Verify checks (docs/tokens.md, "Verifying tokens in a C++ backend"):
//  * the compact JWS with the project's jwt library: algorithm allowlist, key chosen by "kid"
//    only from sessiond's JWKS and bound to its JWK "alg" (so the header cannot pick how a key
//    is used, RFC 8725 §3.1), signature, exp/nbf/iat with `leeway`, iss, aud (RFC 7519 §4.1);
//  * "sub" and "sid" present (non-empty strings);
//  * the session ("sid") has not been revoked: sign-out, revoke-session, password change…
//    arrive on sessiond's revocation feed, which a background thread follows (a list read at
//    start, then a server-sent events stream, WHATWG HTML §9.2), so a revoked session's
//    tokens are rejected within about a second;
//  * optionally (fail closed) that the feed was confirmed healthy recently.
//
// An unknown "kid" (sessiond rotated its key) makes the background thread refetch the JWKS, at
// most once per `min_jwks_refetch_interval`; Verify waits up to `unknown_kid_wait` for that
// fetch. Every other Verify is CPU-only: a shared lock, a signature check, a hash lookup.
//
// This header depends only on the standard library (C++23, for std::expected).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sessiond::verifier {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

struct VerifierOptions {
  // sessiond's base URL: "http://host[:port]" or "https://host[:port]" (no path; a trailing
  // "/" is allowed). IPv6 literals in brackets.
  std::string base_url;
  // Expected "iss" and "aud": sessiond's jwt.issuer / jwt.audience (both default to its
  // baseUrl). Required.
  std::string issuer;
  std::string audience;
  // The algorithms accepted, by JWS name: any of "EdDSA", "ES256", "RS256" (pin what sessiond's
  // jwt.algorithm is; list two while switching). HS* are refused: shared-secret keys are never
  // in a JWKS. JWKS keys of other algorithms are ignored.
  std::vector<std::string> algorithms = {"EdDSA"};
  // Clock skew tolerated for exp/nbf/iat. 10 s: hosts kept by NTP disagree by milliseconds, a
  // resumed VM by seconds; every second of leeway is a second more for a stolen or revoked
  // token. At most 60 s (sessiond keeps retired keys 60 s past their last token's exp).
  std::chrono::seconds leeway{10};
  std::string jwks_path = "/api/auth/jwks";
  std::string revocations_path = "/api/auth/revocations";
  // An unknown kid refetches the JWKS at most once per this interval (a flood of made-up kids
  // costs sessiond one request per interval); meanwhile unknown kids are rejected at once.
  std::chrono::seconds min_jwks_refetch_interval{10};
  // How long Verify waits for the refetch an unknown kid started (or one already running).
  // 0: never wait (reject; the fetch still runs, later tokens verify).
  std::chrono::milliseconds unknown_kid_wait{1000};
  // The JWKS is also refetched on this period (sessiond serves it with max-age=300).
  std::chrono::seconds jwks_refresh_interval{300};
  // Follow GET <revocations_path> and its event stream. Off: revoked sessions' tokens stay
  // valid until exp (as with any stateless verifier).
  bool follow_revocations = true;
  // A revoked sid is remembered until revokedAt + this + leeway, after which every token of the
  // session has expired. Default: the largest jwt.expiresIn sessiond accepts (one day); set it
  // to sessiond's jwt.expiresIn (15 min by default) to keep the set small.
  std::chrono::seconds max_token_lifetime{86400};
  // Fail closed: when the revocation feed has not been confirmed healthy (a page read, or any
  // line on the stream, heartbeats included; sessiond pings every 15 s) for this long, or the
  // first sync has not finished, Verify rejects with kFeedStale instead of risking a revoked
  // token. 0 = fail open: tokens verify while the feed is down (revocations made meanwhile are
  // learnt once it is back). See docs/tokens.md for the trade-off.
  std::chrono::seconds feed_stale_after{30};
  // Stream reconnection: the first retry after ¼ of this, the next two after this, then
  // doubling up to max_reconnect_delay. The server's "retry:" field can only shorten it.
  std::chrono::milliseconds reconnect_delay{1000};
  std::chrono::milliseconds max_reconnect_delay{10000};
  // No byte on the stream for this long (sessiond's heartbeat is every 15 s) → reconnect.
  std::chrono::seconds stream_idle_timeout{35};
  // Whole-request limit for the JWKS and feed pages (connect, send, receive).
  std::chrono::seconds request_timeout{10};
  // https only: a PEM file of CA certificates to trust instead of the system store.
  std::string tls_ca_file;
  // The current time; empty = std::chrono::system_clock. Tests inject a fake one. Called from
  // any thread: must be thread-safe.
  std::function<std::chrono::system_clock::time_point()> clock;
  // Diagnostics (fetch failures, reconnections); empty = silent. Called from the background
  // thread; never given a token.
  std::function<void(LogLevel, std::string_view)> log;
};

// Why Verify rejected a token. Names (VerifyErrorName) are stable.
enum class VerifyError {
  kMalformed,      // MALFORMED: not a compact JWS, bad base64url/JSON, duplicate names, crit,
                   // typ not JWT, over 8 KiB.
  kBadAlgorithm,   // BAD_ALGORITHM: alg not allowed (none, HS*, …) or not its key's alg.
  kUnknownKey,     // UNKNOWN_KEY: no kid, or a kid not in the JWKS (even after a refetch).
  kBadSignature,   // BAD_SIGNATURE.
  kInvalidClaims,  // INVALID_CLAIMS: exp missing, a date not a number, sub or sid missing.
  kExpired,        // EXPIRED: now >= exp + leeway.
  kNotYetValid,    // NOT_YET_VALID: nbf or iat in the future (beyond leeway).
  kWrongIssuer,    // WRONG_ISSUER.
  kWrongAudience,  // WRONG_AUDIENCE.
  kRevoked,        // REVOKED: the session was signed out / revoked.
  kFeedStale,      // REVOCATION_FEED_STALE: fail-closed and the feed is not known healthy.
};

// kFeedStale → "REVOCATION_FEED_STALE", kBadSignature → "BAD_SIGNATURE", …
[[nodiscard]] std::string_view VerifyErrorName(VerifyError error);

struct VerifyFailure {
  VerifyError error = VerifyError::kMalformed;
  std::string detail;  // For logs; never contains the token.
};

// A verified token's claims (docs/tokens.md, "Claims").
struct Claims {
  std::string sub;    // User id.
  std::string sid;    // Session id.
  std::string email;  // Empty if absent.
  std::string role;   // Empty if absent.
  std::string iss;
  std::string aud;       // The configured audience (which the token's aud equals or contains).
  std::string jti;       // Empty if absent.
  std::int64_t exp = 0;  // Seconds since the epoch.
  std::optional<std::int64_t> iat;  // Seconds since the epoch.
  std::string raw_json;             // The whole payload, e.g. for jwt.fields.
};

struct VerifierStatus {
  bool running = false;
  bool keys_loaded = false;  // A JWKS was fetched at least once.
  std::size_t keys = 0;      // Usable keys in the current JWKS.
  std::uint64_t jwks_fetches = 0;
  bool feed_synced = false;  // The first full read of the revocation list finished.
  std::optional<std::chrono::system_clock::time_point> feed_confirmed_at;
  std::size_t revoked_sessions = 0;
};

// The token of an "Authorization: Bearer <token>" header value (scheme case-insensitive,
// RFC 6750 §2.1), or nullopt.
[[nodiscard]] std::optional<std::string_view> BearerToken(std::string_view authorization);

class Verifier {
 public:
  // Validates the options (a description of the first problem otherwise). Nothing runs yet.
  [[nodiscard]] static std::expected<std::unique_ptr<Verifier>, std::string> Create(
      VerifierOptions options);

  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;
  ~Verifier();  // Stop().

  // Starts the background thread: fetches the JWKS, reads the revocation list, then follows
  // its stream. No-op if running.
  void Start();
  // Stops and joins the thread. Keys and revocations learnt so far stay; with fail-closed,
  // Verify reports kFeedStale once feed_stale_after has passed. Start() may be called again.
  void Stop();
  // Waits until keys are loaded and (when following revocations) the first sync finished.
  // False on timeout.
  [[nodiscard]] bool WaitUntilReady(std::chrono::milliseconds timeout) const;

  // The token's claims, or why it is rejected. Thread-safe.
  [[nodiscard]] std::expected<Claims, VerifyFailure> Verify(std::string_view jwt) const;

  [[nodiscard]] VerifierStatus Status() const;

  class Impl;

 private:
  explicit Verifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sessiond::verifier
