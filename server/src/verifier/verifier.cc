// The verifier: options, the hot path (Verify), and the background thread's two coroutines —
// the JWKS refresher and the revocation follower — on one io_context.
//
// Locking:
//  * mu_ (shared_mutex) guards keys_ and revoked_. Verify takes it shared twice, briefly (to
//    copy the key-list pointer, then to look the sid up); the background thread takes it
//    exclusively to install a JWKS or add a revocation. Signature checks run outside it.
//  * fetch_mu_ guards the JWKS fetch bookkeeping (in flight, counters, the unknown-kid rate
//    limit), `running_` and posting to ioc_; fetch_cv_ signals a finished fetch, readiness and
//    Stop.
//  * lifecycle_mu_ serialises Start and Stop.
//  * The feed's health (feed_ok_ms_, feed_synced_) and keys_loaded_ are atomics: Verify reads
//    them without a lock.
// GCC 12 at -O2/-O3 reports -Wnull-dereference and -Wmaybe-uninitialized false positives in
// Asio code inlined here (as in http/server.cc); silenced across the includes only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "sessiond/verifier.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#pragma GCC diagnostic pop

#include "common/clock.h"
#include "crypto/crypto.h"
#include "jwt/algorithm.h"
#include "jwt/jws.h"
#include "jwt/key.h"
#include "jwt/key_lookup.h"
#include "jwt/strict_json.h"
#include "verifier/http_client.h"
#include "verifier/sse.h"
#include "verifier/url.h"

namespace sessiond::verifier {
namespace {

namespace net = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A JWKS holds a handful of keys; a feed page at most 500 short entries (~40 KB).
constexpr std::size_t kMaxJwksBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxPageBytes = std::size_t{1} << 20;
// Expired revocations are pruned at most this often (on the background thread).
constexpr seconds kPruneEvery{60};
// The JWKS is retried at most this far apart while no key set was ever loaded.
constexpr milliseconds kMaxJwksRetryDelay{30000};
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();

// The key lookup Verify hands the jwt library: the current key list, plus whether the token
// named a usable kid that the list lacks (the only case that justifies a JWKS refetch; a
// missing or oversized kid never gets as far as FindByKid).
class MissRecorder final : public jwt::KeyLookup {
 public:
  explicit MissRecorder(const jwt::KeyLookup* keys) : keys_(keys) {}
  [[nodiscard]] std::shared_ptr<const jwt::Key> FindByKid(std::string_view kid) const override {
    std::shared_ptr<const jwt::Key> key = keys_ == nullptr ? nullptr : keys_->FindByKid(kid);
    if (key == nullptr) missed_ = true;
    return key;
  }
  [[nodiscard]] bool missed() const { return missed_; }

 private:
  const jwt::KeyLookup* keys_;
  mutable bool missed_ = false;
};

VerifyError FromJwt(jwt::VerifyError error) {
  switch (error) {
    case jwt::VerifyError::kTooLarge:
    case jwt::VerifyError::kMalformed:
    case jwt::VerifyError::kCriticalHeader:
    case jwt::VerifyError::kDuplicateClaim:
      return VerifyError::kMalformed;
    case jwt::VerifyError::kBadAlgorithm:
      return VerifyError::kBadAlgorithm;
    case jwt::VerifyError::kUnknownKid:
      return VerifyError::kUnknownKey;
    case jwt::VerifyError::kBadSignature:
      return VerifyError::kBadSignature;
    case jwt::VerifyError::kInvalidClaim:
      return VerifyError::kInvalidClaims;
    case jwt::VerifyError::kExpired:
      return VerifyError::kExpired;
    case jwt::VerifyError::kNotYetValid:
      return VerifyError::kNotYetValid;
    case jwt::VerifyError::kBadIssuer:
      return VerifyError::kWrongIssuer;
    case jwt::VerifyError::kBadAudience:
      return VerifyError::kWrongAudience;
  }
  return VerifyError::kMalformed;
}

std::unexpected<VerifyFailure> Reject(VerifyError error, std::string detail) {
  return std::unexpected(VerifyFailure{error, std::move(detail)});
}

// A NumericDate already validated by jwt::Verify, as whole seconds.
std::optional<std::int64_t> Seconds(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) {
    return static_cast<std::int64_t>(
        std::min<std::uint64_t>(v->get_uint64(), std::numeric_limits<std::int64_t>::max()));
  }
  if (v->is_double()) {
    const double d = v->get_double();
    if (d >= 9.2e18 || d <= -9.2e18) return std::nullopt;
    return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

std::string StringClaim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool IsEventStream(std::string_view content_type) {
  const std::string_view kType = "text/event-stream";
  if (content_type.size() < kType.size()) return false;
  for (std::size_t i = 0; i < kType.size(); ++i) {
    const char c = content_type[i];
    const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != kType[i]) return false;
  }
  return content_type.size() == kType.size() || content_type[kType.size()] == ';' ||
         content_type[kType.size()] == ' ';
}

net::awaitable<void> Sleep(milliseconds delay) {
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(delay);
  boost::system::error_code ec;
  co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
}

}  // namespace

std::string_view VerifyErrorName(VerifyError error) {
  switch (error) {
    case VerifyError::kMalformed:
      return "MALFORMED";
    case VerifyError::kBadAlgorithm:
      return "BAD_ALGORITHM";
    case VerifyError::kUnknownKey:
      return "UNKNOWN_KEY";
    case VerifyError::kBadSignature:
      return "BAD_SIGNATURE";
    case VerifyError::kInvalidClaims:
      return "INVALID_CLAIMS";
    case VerifyError::kExpired:
      return "EXPIRED";
    case VerifyError::kNotYetValid:
      return "NOT_YET_VALID";
    case VerifyError::kWrongIssuer:
      return "WRONG_ISSUER";
    case VerifyError::kWrongAudience:
      return "WRONG_AUDIENCE";
    case VerifyError::kRevoked:
      return "REVOKED";
    case VerifyError::kFeedStale:
      return "REVOCATION_FEED_STALE";
  }
  return "UNKNOWN";
}

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() + 1) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view rest = authorization.substr(kScheme.size());
  if (rest.front() != ' ') return std::nullopt;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  if (rest.empty() || rest.find_first_of(" \t") != std::string_view::npos) return std::nullopt;
  return rest;
}

class Verifier::Impl {
 public:
  Impl(VerifierOptions options, internal::BaseUrl url, std::vector<jwt::Algorithm> algorithms,
       std::unique_ptr<net::ssl::context> tls)
      : options_(std::move(options)),
        tls_(std::move(tls)),
        client_(std::move(url), tls_.get(), options_.request_timeout) {
    jwt_options_.allowed = std::move(algorithms);
    jwt_options_.issuer = options_.issuer;
    jwt_options_.audience = options_.audience;
    jwt_options_.leeway = options_.leeway;
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { Stop(); }

  void Start();
  void Stop();
  bool WaitUntilReady(milliseconds timeout);
  std::expected<Claims, VerifyFailure> Verify(std::string_view token);
  VerifierStatus Status();

 private:
  struct FollowEnd {
    std::string reason;
    bool bad_cursor = false;  // The server refused the cursor (400): read the list again.
    bool alive = false;       // The stream delivered at least one line.
  };

  [[nodiscard]] TimePoint Now() const {
    return std::chrono::floor<milliseconds>(options_.clock ? options_.clock()
                                                           : std::chrono::system_clock::now());
  }
  void Log(LogLevel level, const std::string& message) const {
    if (options_.log) options_.log(level, message);
  }
  [[nodiscard]] std::shared_ptr<const jwt::KeyList> Keys() const {
    std::shared_lock lock(mu_);
    return keys_;
  }
  void NotifyWaiters() {
    { std::lock_guard lock(fetch_mu_); }  // So a waiter between its check and wait is woken.
    fetch_cv_.notify_all();
  }
  auto Completion(std::string what) {
    return [this, what = std::move(what)](const std::exception_ptr& error) {
      if (error == nullptr) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        Log(LogLevel::kError, what + " stopped: " + e.what());
      } catch (...) {
        Log(LogLevel::kError, what + " stopped");
      }
    };
  }

  // JWKS.
  bool AwaitRefetch(TimePoint now);
  void BeginFetchLocked();
  net::awaitable<void> FetchJwks();
  net::awaitable<void> JwksLoop();
  std::expected<void, std::string> InstallJwks(std::string_view body);

  // Revocation feed.
  net::awaitable<void> RevocationLoop();
  net::awaitable<std::expected<std::string, std::string>> Sync();
  net::awaitable<FollowEnd> Follow(std::string& cursor);
  std::expected<void, std::string> ApplyRevocation(const json::value& entry);
  void MarkFeedHealthy(bool synced);
  [[nodiscard]] milliseconds Backoff(int failures) const;

  const VerifierOptions options_;
  jwt::VerifyOptions jwt_options_;
  std::unique_ptr<net::ssl::context> tls_;  // https only.
  internal::HttpClient client_;

  mutable std::shared_mutex mu_;
  std::shared_ptr<const jwt::KeyList> keys_;               // Guarded by mu_.
  std::size_t key_count_ = 0;                              // Guarded by mu_.
  std::unordered_map<std::string, std::int64_t> revoked_;  // sid → revokedAt; guarded by mu_.
  TimePoint last_prune_;                                   // Guarded by mu_.

  std::atomic<bool> keys_loaded_{false};
  std::atomic<bool> feed_synced_{false};
  std::atomic<std::int64_t> feed_ok_ms_{kNever};
  std::atomic<std::int64_t> server_retry_ms_{0};  // Background thread only; 0 = none.

  std::mutex lifecycle_mu_;
  std::mutex fetch_mu_;
  std::condition_variable fetch_cv_;
  bool running_ = false;                        // Guarded by fetch_mu_.
  bool fetch_in_flight_ = false;                // Guarded by fetch_mu_.
  std::uint64_t fetches_started_ = 0;           // Guarded by fetch_mu_.
  std::uint64_t fetches_done_ = 0;              // Guarded by fetch_mu_.
  std::optional<TimePoint> last_demand_fetch_;  // Guarded by fetch_mu_.
  std::unique_ptr<net::io_context> ioc_;        // Set/reset under both mutexes.
  std::thread thread_;                          // Guarded by lifecycle_mu_.
};

void Verifier::Impl::Start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  std::lock_guard lock(fetch_mu_);
  if (running_) return;
  ioc_ = std::make_unique<net::io_context>(1);
  running_ = true;
  fetch_in_flight_ = false;
  net::co_spawn(*ioc_, JwksLoop(), Completion("JWKS refresher"));
  if (options_.follow_revocations) {
    net::co_spawn(*ioc_, RevocationLoop(), Completion("revocation follower"));
  }
  thread_ = std::thread([io = ioc_.get()] {
    auto work = net::make_work_guard(*io);
    io->run();
  });
}

void Verifier::Impl::Stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  {
    std::lock_guard lock(fetch_mu_);
    if (!running_) return;
    running_ = false;
    ioc_->stop();
  }
  fetch_cv_.notify_all();
  thread_.join();
  std::unique_ptr<net::io_context> ioc;
  {
    std::lock_guard lock(fetch_mu_);
    ioc = std::move(ioc_);
    fetch_in_flight_ = false;
  }
  // Destroys the suspended coroutines (and their sockets) with the io_context.
  ioc.reset();
}

bool Verifier::Impl::WaitUntilReady(milliseconds timeout) {
  std::unique_lock lock(fetch_mu_);
  return fetch_cv_.wait_for(lock, timeout, [&] {
    return keys_loaded_.load() && (!options_.follow_revocations || feed_synced_.load());
  });
}

VerifierStatus Verifier::Impl::Status() {
  VerifierStatus status;
  {
    std::lock_guard lock(fetch_mu_);
    status.running = running_;
    status.jwks_fetches = fetches_done_;
  }
  {
    std::shared_lock lock(mu_);
    status.keys = key_count_;
    status.revoked_sessions = revoked_.size();
  }
  status.keys_loaded = keys_loaded_.load();
  status.feed_synced = feed_synced_.load();
  if (const std::int64_t ok = feed_ok_ms_.load(); ok != kNever) {
    status.feed_confirmed_at = std::chrono::system_clock::time_point(FromUnixMillis(ok));
  }
  return status;
}

std::expected<Claims, VerifyFailure> Verifier::Impl::Verify(std::string_view token) {
  const TimePoint now = Now();
  std::shared_ptr<const jwt::KeyList> keys = Keys();
  MissRecorder lookup(keys.get());
  auto verified = jwt::Verify(token, lookup, jwt_options_, now);
  if (!verified && verified.error().reason == jwt::VerifyError::kUnknownKid && lookup.missed()) {
    // Perhaps sessiond rotated its key: refetch (rate-limited) and try once more.
    if (AwaitRefetch(now)) {
      keys = Keys();
      MissRecorder again(keys.get());
      verified = jwt::Verify(token, again, jwt_options_, now);
    } else {
      verified.error().detail += " (JWKS refetch not due yet)";
    }
  }
  if (!verified) return Reject(FromJwt(verified.error().reason), verified.error().detail);
  const json::object& payload = *verified;

  Claims claims;
  claims.sub = StringClaim(payload, "sub");
  claims.sid = StringClaim(payload, "sid");
  if (claims.sub.empty()) return Reject(VerifyError::kInvalidClaims, "sub missing");
  if (claims.sid.empty()) return Reject(VerifyError::kInvalidClaims, "sid missing");
  {
    std::shared_lock lock(mu_);
    if (revoked_.contains(claims.sid)) {
      return Reject(VerifyError::kRevoked, "the session was revoked");
    }
  }
  if (options_.follow_revocations && options_.feed_stale_after.count() > 0) {
    if (!feed_synced_.load()) {
      return Reject(VerifyError::kFeedStale, "the revocation list has not been read yet");
    }
    const std::int64_t since_ok = ToUnixMillis(now) - feed_ok_ms_.load();
    if (since_ok > std::chrono::duration_cast<milliseconds>(options_.feed_stale_after).count()) {
      return Reject(VerifyError::kFeedStale,
                    "revocation feed last confirmed " + std::to_string(since_ok / 1000) + " s ago");
    }
  }
  claims.email = StringClaim(payload, "email");
  claims.role = StringClaim(payload, "role");
  claims.iss = options_.issuer;
  claims.aud = options_.audience;
  claims.jti = StringClaim(payload, "jti");
  claims.exp = Seconds(payload.if_contains("exp")).value_or(0);
  claims.iat = Seconds(payload.if_contains("iat"));
  claims.raw_json = json::serialize(payload);
  return claims;
}

// --- JWKS ------------------------------------------------------------------------------------

bool Verifier::Impl::AwaitRefetch(TimePoint now) {
  std::unique_lock lock(fetch_mu_);
  if (!running_) return false;
  if (!fetch_in_flight_) {
    // The rate limit: one unknown-kid refetch per interval (a clock that went back counts as
    // due, so a wall-clock step cannot block refetches for long).
    if (last_demand_fetch_ && now >= *last_demand_fetch_ &&
        now - *last_demand_fetch_ < options_.min_jwks_refetch_interval) {
      return false;
    }
    last_demand_fetch_ = now;
    BeginFetchLocked();
    net::post(*ioc_, [this] { net::co_spawn(*ioc_, FetchJwks(), Completion("JWKS fetch")); });
  }
  // Wait for the fetch in flight, whoever started it.
  const std::uint64_t target = fetches_started_;
  if (options_.unknown_kid_wait.count() <= 0) return false;
  fetch_cv_.wait_for(lock, options_.unknown_kid_wait,
                     [&] { return fetches_done_ >= target || !running_; });
  return fetches_done_ >= target;
}

void Verifier::Impl::BeginFetchLocked() {
  fetch_in_flight_ = true;
  ++fetches_started_;
}

net::awaitable<void> Verifier::Impl::FetchJwks() {
  // (Arguments are named locals: GCC 12 miscompiles braced lists inside co_await.)
  internal::HttpHeaders headers{{"accept", "application/json"}};
  auto response = co_await client_.Get(options_.jwks_path, std::move(headers), kMaxJwksBytes);
  std::string problem;
  if (!response) {
    problem = response.error();
  } else if (response->status != 200) {
    problem = "HTTP " + std::to_string(response->status);
  } else if (auto installed = InstallJwks(response->body); !installed) {
    problem = installed.error();
  }
  if (!problem.empty()) {
    Log(LogLevel::kWarning, "JWKS fetch failed (" + problem + "); keeping the keys we have");
  }
  {
    std::lock_guard lock(fetch_mu_);
    fetch_in_flight_ = false;
    ++fetches_done_;
  }
  fetch_cv_.notify_all();
}

net::awaitable<void> Verifier::Impl::JwksLoop() {
  int failures = 0;
  for (;;) {
    bool mine = false;
    {
      std::lock_guard lock(fetch_mu_);
      if (!fetch_in_flight_) {
        BeginFetchLocked();
        mine = true;
      }
    }
    if (mine) co_await FetchJwks();
    milliseconds delay = options_.jwks_refresh_interval;
    if (!keys_loaded_.load()) {
      // Never loaded (sessiond not up yet?): retry soon, backing off.
      failures = std::min(failures + 1, 16);
      delay = std::min(Backoff(failures), std::min(delay, kMaxJwksRetryDelay));
    }
    co_await Sleep(delay);
  }
}

std::expected<void, std::string> Verifier::Impl::InstallJwks(std::string_view body) {
  auto root = jwt::ParseObjectStrict(body);
  if (!root) return std::unexpected("JWKS is not a JSON object");
  const json::value* members = root->if_contains("keys");
  if (members == nullptr || !members->is_array()) {
    return std::unexpected("JWKS has no \"keys\" array");
  }
  std::vector<jwt::Key> keys;
  for (const json::value& member : members->get_array()) {
    if (!member.is_object()) {
      Log(LogLevel::kWarning, "JWKS: skipping a member that is not an object");
      continue;
    }
    // Binds the key to its JWK "alg"; refuses private members, HS keys, weak RSA, …
    auto key = jwt::Key::FromPublicJwk(member.get_object());
    if (!key) {
      Log(LogLevel::kWarning, "JWKS: skipping a key: " + key.error().detail);
      continue;
    }
    if (std::find(jwt_options_.allowed.begin(), jwt_options_.allowed.end(), key->algorithm()) ==
        jwt_options_.allowed.end()) {
      Log(LogLevel::kDebug, "JWKS: ignoring key " + key->kid() + " (" +
                                std::string(jwt::AlgorithmName(key->algorithm())) +
                                " is not in the allowlist)");
      continue;
    }
    if (std::any_of(keys.begin(), keys.end(),
                    [&](const jwt::Key& k) { return k.kid() == key->kid(); })) {
      Log(LogLevel::kWarning, "JWKS: skipping a second key with kid " + key->kid());
      continue;
    }
    keys.push_back(std::move(*key));
  }
  const std::size_t count = keys.size();
  auto list = std::make_shared<const jwt::KeyList>(std::move(keys));
  {
    std::unique_lock lock(mu_);
    keys_ = std::move(list);
    key_count_ = count;
  }
  keys_loaded_ = true;
  NotifyWaiters();
  Log(LogLevel::kDebug, "JWKS loaded: " + std::to_string(count) + " usable keys");
  return {};
}

// --- Revocation feed ---------------------------------------------------------------------------

milliseconds Verifier::Impl::Backoff(int failures) const {
  milliseconds base = options_.reconnect_delay;
  if (const std::int64_t retry = server_retry_ms_.load(); retry > 0) {
    base = std::min(base, milliseconds(retry));  // The server's "retry:" may only shorten it.
  }
  if (failures <= 1) return base / 4;
  if (failures <= 3) return base;
  const int doublings = std::min(failures - 3, 20);
  const milliseconds grown = base * (std::int64_t{1} << doublings);
  return std::min(grown, std::max(base, options_.max_reconnect_delay));
}

void Verifier::Impl::MarkFeedHealthy(bool synced) {
  feed_ok_ms_ = ToUnixMillis(Now());
  if (synced && !feed_synced_.exchange(true)) NotifyWaiters();
}

std::expected<void, std::string> Verifier::Impl::ApplyRevocation(const json::value& entry) {
  const json::object* object = entry.if_object();
  const json::value* sid = object ? object->if_contains("sid") : nullptr;
  const json::value* at = object ? object->if_contains("revokedAt") : nullptr;
  if (sid == nullptr || !sid->is_string() || sid->get_string().empty() || at == nullptr ||
      !(at->is_int64() || at->is_uint64())) {
    return std::unexpected("a revocation without a sid or an integer revokedAt");
  }
  const std::int64_t revoked_at = Seconds(at).value_or(0);
  const TimePoint now = Now();
  const std::int64_t now_s = ToUnixMillis(now) / 1000;
  const std::int64_t keep = options_.max_token_lifetime.count() + options_.leeway.count();
  std::unique_lock lock(mu_);
  // Every token of this session expires by revokedAt + lifetime (no token is minted after the
  // revocation), plus the leeway verifiers give exp.
  if (revoked_at > now_s - keep) {
    std::int64_t& stored = revoked_[std::string(sid->get_string())];
    stored = std::max(stored, revoked_at);
  }
  if (now - last_prune_ >= kPruneEvery || now < last_prune_) {
    std::erase_if(revoked_, [&](const auto& item) { return item.second <= now_s - keep; });
    last_prune_ = now;
  }
  return {};
}

net::awaitable<void> Verifier::Impl::RevocationLoop() {
  std::optional<std::string> cursor;
  int failures = 0;
  for (;;) {
    if (!cursor) {
      auto synced = co_await Sync();
      if (!synced) {
        ++failures;
        const milliseconds delay = Backoff(failures);
        Log(LogLevel::kWarning, "revocation list: " + synced.error() + "; retrying in " +
                                    std::to_string(delay.count()) + " ms");
        co_await Sleep(delay);
        continue;
      }
      cursor = std::move(*synced);
      failures = 0;
    }
    FollowEnd end = co_await Follow(*cursor);
    if (end.alive) failures = 0;
    ++failures;
    if (end.bad_cursor) {
      Log(LogLevel::kWarning, "revocation stream refused our cursor; reading the list again");
      cursor.reset();
      if (failures == 1) continue;  // At once, unless it keeps happening.
    }
    const milliseconds delay = Backoff(failures);
    Log(end.alive ? LogLevel::kInfo : LogLevel::kWarning,
        "revocation stream: " + end.reason + "; reconnecting in " + std::to_string(delay.count()) +
            " ms");
    co_await Sleep(delay);
  }
}

// Reads the whole retained list: GET without a cursor, then with each page's cursor while
// hasMore. Returns the cursor to follow the stream from.
net::awaitable<std::expected<std::string, std::string>> Verifier::Impl::Sync() {
  std::optional<std::string> since;
  for (;;) {
    std::string target = options_.revocations_path;
    if (since) target += "?since=" + internal::PercentEncode(*since);
    internal::HttpHeaders headers{{"accept", "application/json"}};
    auto response = co_await client_.Get(target, std::move(headers), kMaxPageBytes);
    if (!response) co_return std::unexpected(std::move(response.error()));
    if (response->status != 200) {
      co_return std::unexpected("GET " + options_.revocations_path + ": HTTP " +
                                std::to_string(response->status));
    }
    auto page = jwt::ParseObjectStrict(response->body);
    if (!page) co_return std::unexpected("a page that is not a JSON object");
    const json::value* list = page->if_contains("revocations");
    const json::value* next = page->if_contains("cursor");
    const json::value* more = page->if_contains("hasMore");
    if (list == nullptr || !list->is_array() || next == nullptr || !next->is_string() ||
        more == nullptr || !more->is_bool()) {
      co_return std::unexpected("a page without revocations, cursor or hasMore");
    }
    std::string cursor(next->get_string());
    if (!internal::IsSafeHeaderValue(cursor)) co_return std::unexpected("an unusable cursor");
    for (const json::value& entry : list->get_array()) {
      if (auto applied = ApplyRevocation(entry); !applied) {
        co_return std::unexpected(std::move(applied.error()));
      }
    }
    const bool has_more = more->get_bool();
    MarkFeedHealthy(!has_more);
    if (!has_more) co_return cursor;
    if (since && *since == cursor) co_return std::unexpected("hasMore without a new cursor");
    since = std::move(cursor);
  }
}

// Follows the event stream from `cursor` (sent as Last-Event-ID), applying revocations and
// advancing `cursor` as events arrive, until the stream fails.
net::awaitable<Verifier::Impl::FollowEnd> Verifier::Impl::Follow(std::string& cursor) {
  FollowEnd end;
  internal::SseParser parser;
  unsigned status = 0;
  std::string content_type;
  const auto on_head = [&](unsigned code, std::string_view type) {
    status = code;
    content_type = type;
    return code == 200 && IsEventStream(type);
  };
  const auto on_event = [&](const internal::SseEvent& event) {
    if (event.type == "revocation") {
      auto data = jwt::ParseObjectStrict(event.data);
      if (!data) {
        end.reason = "an event whose data is not a JSON object";
        return false;
      }
      if (auto applied = ApplyRevocation(json::value(std::move(*data))); !applied) {
        end.reason = applied.error();
        return false;
      }
    }
    // Other event types are skipped (forward compatibility) but still move the cursor.
    if (!event.last_event_id.empty()) {
      if (!internal::IsSafeHeaderValue(event.last_event_id)) {
        end.reason = "an unusable event id";
        return false;
      }
      cursor = event.last_event_id;
    }
    return true;
  };
  const auto on_body = [&](std::string_view piece) {
    const std::uint64_t lines_before = parser.lines();
    const bool ok = parser.Feed(piece, on_event);
    if (const auto retry = parser.retry()) server_retry_ms_ = retry->count();
    if (ok && parser.lines() != lines_before) {
      end.alive = true;
      MarkFeedHealthy(false);
    }
    return ok;
  };
  internal::HttpHeaders headers{
      {"accept", "text/event-stream"}, {"cache-control", "no-cache"}, {"last-event-id", cursor}};
  auto result = co_await client_.Stream(options_.revocations_path, std::move(headers), on_head,
                                        on_body, options_.stream_idle_timeout);
  if (result) {  // on_head declined the body.
    end.bad_cursor = status == 400;
    end.reason = status == 200 ? "not an event stream (content-type " + content_type + ")"
                               : "HTTP " + std::to_string(status);
  } else if (end.reason.empty()) {
    end.reason = std::move(result.error());
  }
  co_return end;
}

// --- Verifier ----------------------------------------------------------------------------------

std::expected<std::unique_ptr<Verifier>, std::string> Verifier::Create(VerifierOptions options) {
  auto url = internal::ParseBaseUrl(options.base_url);
  if (!url) return std::unexpected(url.error());
  if (options.issuer.empty()) return std::unexpected("issuer is required");
  if (options.audience.empty()) return std::unexpected("audience is required");
  std::vector<jwt::Algorithm> algorithms;
  for (const std::string& name : options.algorithms) {
    const std::optional<jwt::Algorithm> algorithm = jwt::ParseAlgorithm(name);
    if (!algorithm) return std::unexpected("algorithms: unknown algorithm \"" + name + "\"");
    if (jwt::IsSymmetric(*algorithm)) {
      return std::unexpected("algorithms: " + name +
                             " is a shared-secret algorithm; its key is never in a JWKS");
    }
    if (std::find(algorithms.begin(), algorithms.end(), *algorithm) == algorithms.end()) {
      algorithms.push_back(*algorithm);
    }
  }
  if (algorithms.empty()) return std::unexpected("algorithms: the allowlist is empty");
  if (options.leeway < seconds(0) || options.leeway > seconds(60)) {
    return std::unexpected("leeway must be 0-60 s");
  }
  for (const std::string* path : {&options.jwks_path, &options.revocations_path}) {
    if (!path->starts_with('/') || !internal::IsSafeHeaderValue(*path) ||
        path->find_first_of(" ?#") != std::string::npos) {
      return std::unexpected("jwks_path and revocations_path must be absolute paths");
    }
  }
  if (options.min_jwks_refetch_interval < seconds(1)) {
    return std::unexpected("min_jwks_refetch_interval must be at least 1 s");
  }
  if (options.unknown_kid_wait < milliseconds(0) || options.unknown_kid_wait > seconds(10)) {
    return std::unexpected("unknown_kid_wait must be 0-10 s");
  }
  if (options.jwks_refresh_interval < seconds(1)) {
    return std::unexpected("jwks_refresh_interval must be at least 1 s");
  }
  if (options.max_token_lifetime <= seconds(0)) {
    return std::unexpected("max_token_lifetime must be positive");
  }
  if (options.feed_stale_after < seconds(0)) {
    return std::unexpected("feed_stale_after must be 0 (off) or positive");
  }
  if (options.reconnect_delay < milliseconds(4) ||
      options.max_reconnect_delay < options.reconnect_delay) {
    return std::unexpected("reconnect_delay must be at least 4 ms and at most max_reconnect_delay");
  }
  if (options.stream_idle_timeout <= seconds(0) || options.request_timeout <= seconds(0)) {
    return std::unexpected("stream_idle_timeout and request_timeout must be positive");
  }
  if (!url->tls && !options.tls_ca_file.empty()) {
    return std::unexpected("tls_ca_file is for an https base_url");
  }
  if (!crypto::Init()) return std::unexpected("libsodium failed to initialise");

  std::unique_ptr<net::ssl::context> tls;
  if (url->tls) {
    try {
      tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
    } catch (const std::exception& e) {
      return std::unexpected(std::string("TLS: ") + e.what());
    }
    boost::system::error_code ec;
    tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                         net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                         net::ssl::context::no_tlsv1_1,
                     ec);
    if (!ec) {
      if (options.tls_ca_file.empty()) {
        tls->set_default_verify_paths(ec);
      } else {
        tls->load_verify_file(options.tls_ca_file, ec);
      }
    }
    if (ec) return std::unexpected("TLS trust store: " + ec.message());
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(*url), std::move(algorithms),
                                     std::move(tls));
  return std::unique_ptr<Verifier>(new Verifier(std::move(impl)));
}

Verifier::Verifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Verifier::~Verifier() = default;
void Verifier::Start() { impl_->Start(); }
void Verifier::Stop() { impl_->Stop(); }
bool Verifier::WaitUntilReady(milliseconds timeout) const { return impl_->WaitUntilReady(timeout); }
std::expected<Claims, VerifyFailure> Verifier::Verify(std::string_view jwt) const {
  return impl_->Verify(jwt);
}
VerifierStatus Verifier::Status() const { return impl_->Status(); }

}  // namespace sessiond::verifier
