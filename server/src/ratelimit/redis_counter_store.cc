#include "ratelimit/redis_counter_store.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <ctime>
#include <expected>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace sessiond::ratelimit {
namespace {

using Millis = std::int64_t;
using SteadyClock = std::chrono::steady_clock;

// KEYS[1]: the counter. ARGV: now (Unix ms), window (ms), max, "1" to record a hit or "0" to
// only look. Returns {allowed (1/0), hits counted after the call, time of the oldest counted hit
// or 0}. The same steps as MemoryCounterStore::Hit / Peek; Redis runs a script atomically.
constexpr std::string_view kScript = R"lua(
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
-- A hit at t counts in (now - window, now]: it leaves at exactly t + window.
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
-- Hits "in the future" (a clock stepped back, or a replica ahead) count as made now.
local ahead = redis.call('ZRANGEBYSCORE', key, '(' .. ARGV[1], '+inf')
if #ahead > 0 then
  for _, member in ipairs(ahead) do redis.call('ZADD', key, now, member) end
  redis.call('PEXPIRE', key, window)
end
local count = redis.call('ZCARD', key)
local allowed = count < max
if allowed and ARGV[4] == '1' then
  -- Members are a per-key sequence in fixed-width hex: unique, and equal scores sort in the
  -- order the hits were made, so the last member is always the newest.
  local seq = 0
  local newest = redis.call('ZRANGE', key, -1, -1)
  if #newest > 0 then seq = tonumber(newest[1], 16) + 1 end
  redis.call('ZADD', key, now, string.format('%016x', seq))
  redis.call('PEXPIRE', key, window)
  count = count + 1
end
local oldest = 0
if count > 0 then oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]) end
return {allowed and 1 or 0, count, oldest}
)lua";

std::string Sha1Hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1) {
    return {};  // EVALSHA then answers NOSCRIPT and every call uses EVAL.
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

// Whole seconds, rounded up, so a client that waits Retry-After is never early.
std::chrono::seconds CeilSeconds(Millis ms) {
  return std::chrono::seconds(ms <= 0 ? 0 : (ms + 999) / 1000);
}

// As MemoryCounterStore's Describe, from the script's answer.
Decision Describe(bool allowed, std::uint32_t max, std::int64_t count, Millis oldest,
                  Millis window_ms, Millis now) {
  Decision d;
  d.allowed = allowed;
  d.limit = max;
  d.remaining = count < static_cast<std::int64_t>(max)
                    ? max - static_cast<std::uint32_t>(std::max<std::int64_t>(count, 0))
                    : 0;
  if (count > 0) {
    d.reset_after = CeilSeconds(oldest + window_ms - now);
  } else if (!allowed) {
    d.reset_after = CeilSeconds(window_ms);  // Only when max == 0: nothing will free a slot.
  }
  return d;
}

// hiredis writes with write(2), so a write to a connection Redis has reset raises SIGPIPE,
// whose default action kills the process. As libpq does: block SIGPIPE in this thread for the
// call and swallow one that the call raised, leaving any that was pending before alone.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{};
        (void)sigtimedwait(&pipe_, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
};

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// Why a call did not get an answer from Redis.
enum class Failure {
  kDown,  // Unreachable, timed out, or an error reply: an outage.
  kBusy,  // Every pooled connection stayed in use until the deadline: not an outage.
};

struct CallError {
  Failure failure;
  std::string detail;
  // The connection was found closed or reset (not timed out): if it had sat idle in the pool,
  // the command most likely never reached Redis, and a new connection may succeed.
  bool connection_lost = false;
};

template <typename T>
using CallResult = std::expected<T, CallError>;

std::unexpected<CallError> Down(std::string detail) {
  return std::unexpected<CallError>(CallError{Failure::kDown, std::move(detail)});
}

bool IsErrorReply(const redisReply& reply, std::string_view prefix = {}) {
  return reply.type == REDIS_REPLY_ERROR &&
         std::string_view(reply.str, reply.len).starts_with(prefix);
}

std::string ReplyText(const redisReply& reply) {
  return reply.str != nullptr ? std::string(reply.str, reply.len) : std::string();
}

// Milliseconds left until `deadline`, or nullopt once it has passed. hiredis reads a zero
// timeout as "none", so at least 1 ms is returned.
std::optional<timeval> Remaining(SteadyClock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::microseconds>(deadline - SteadyClock::now());
  if (left.count() <= 0) return std::nullopt;
  const std::int64_t us = std::max<std::int64_t>(left.count(), 1000);
  return timeval{.tv_sec = static_cast<time_t>(us / 1'000'000),
                 .tv_usec = static_cast<suseconds_t>(us % 1'000'000)};
}

// One command on `ctx`, with what is left of the deadline as its timeout. An error means the
// connection is broken (I/O error, timeout, protocol error) and must not be reused; an error
// REPLY is returned as a reply.
CallResult<ReplyPtr> Command(redisContext& ctx, std::span<const std::string_view> argv,
                             SteadyClock::time_point deadline) {
  const std::optional<timeval> left = Remaining(deadline);
  if (!left) return Down("timed out");
  if (redisSetTimeout(&ctx, *left) != REDIS_OK) return Down("cannot set the socket timeout");
  std::vector<const char*> args;
  std::vector<std::size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const std::string_view arg : argv) {
    args.push_back(arg.data());
    lens.push_back(arg.size());
  }
  void* raw = nullptr;
  int error_number = 0;
  {
    const SigpipeGuard guard;
    errno = 0;
    raw = redisCommandArgv(&ctx, static_cast<int>(args.size()), args.data(), lens.data());
    error_number = errno;
  }
  if (raw == nullptr) {
    // hiredis reports a socket timeout as an I/O error with errno EAGAIN.
    const bool timed_out =
        ctx.err == REDIS_ERR_IO && (error_number == EAGAIN || error_number == EWOULDBLOCK);
    if (timed_out) return Down("timed out");
    return std::unexpected<CallError>(CallError{Failure::kDown, ctx.errstr, true});
  }
  return ReplyPtr(static_cast<redisReply*>(raw));
}

// Opens and prepares one connection (AUTH, SELECT) within the deadline.
CallResult<ContextPtr> Connect(const RedisEndpoint& endpoint, SteadyClock::time_point deadline) {
  const std::optional<timeval> left = Remaining(deadline);
  if (!left) return Down("timed out");
  redisContext* raw = endpoint.unix_path.empty()
                          ? redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, *left)
                          : redisConnectUnixWithTimeout(endpoint.unix_path.c_str(), *left);
  if (raw == nullptr) return Down("cannot allocate a connection");
  ContextPtr ctx(raw);
  if (ctx->err != 0) return Down(std::string("connect: ") + ctx->errstr);
  if (endpoint.unix_path.empty()) (void)redisEnableKeepAlive(ctx.get());

  const auto expect_status = [&](std::span<const std::string_view> argv,
                                 std::string_view what) -> CallResult<void> {
    auto reply = Command(*ctx, argv, deadline);
    if (!reply) return std::unexpected(reply.error());
    if ((*reply)->type != REDIS_REPLY_STATUS) {
      return Down(std::string(what) + ": " + ReplyText(**reply));
    }
    return {};
  };
  if (!endpoint.password.empty()) {
    std::vector<std::string_view> argv = {"AUTH"};
    if (!endpoint.username.empty()) argv.emplace_back(endpoint.username);
    argv.emplace_back(endpoint.password);
    if (auto ok = expect_status(argv, "AUTH"); !ok) return std::unexpected(ok.error());
  }
  if (endpoint.db != 0) {
    const std::string db = std::to_string(endpoint.db);
    const std::array<std::string_view, 2> argv = {"SELECT", db};
    if (auto ok = expect_status(argv, "SELECT"); !ok) return std::unexpected(ok.error());
  }
  return ctx;
}

// Up to `size` connections to one endpoint, opened on demand.
class ConnectionPool {
 public:
  ConnectionPool(const RedisEndpoint& endpoint, std::size_t size)
      : endpoint_(endpoint), size_(size) {}

  // A connection for one call; back to the pool when destroyed, unless marked broken.
  class Lease {
   public:
    Lease(ConnectionPool& pool, ContextPtr ctx, bool reused)
        : pool_(&pool), ctx_(std::move(ctx)), reused_(reused) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)),
          ctx_(std::move(other.ctx_)),
          reused_(other.reused_),
          broken_(other.broken_) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->Return(std::move(ctx_), broken_);
    }
    redisContext& operator*() const { return *ctx_; }
    void MarkBroken() { broken_ = true; }
    // Taken idle from the pool (rather than opened for this call).
    [[nodiscard]] bool reused() const { return reused_; }

   private:
    ConnectionPool* pool_;
    ContextPtr ctx_;
    bool reused_;
    bool broken_ = false;
  };

  // An idle connection, a new one if fewer than `size` exist, or the first one returned before
  // the deadline.
  CallResult<Lease> Acquire(SteadyClock::time_point deadline,
                            std::atomic<std::uint64_t>& connects) {
    std::unique_lock<std::mutex> lock(mu_);
    while (idle_.empty() && open_ >= size_) {
      if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= size_) {
        return std::unexpected<CallError>(
            CallError{Failure::kBusy, "no free connection before the deadline"});
      }
    }
    if (!idle_.empty()) {
      ContextPtr ctx = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(ctx), true);
    }
    ++open_;  // Reserve the slot, then connect without the lock.
    lock.unlock();
    CallResult<ContextPtr> ctx = Connect(endpoint_, deadline);
    if (!ctx) {
      Return(nullptr, true);
      return std::unexpected(ctx.error());
    }
    ++connects;
    return Lease(*this, std::move(*ctx), false);
  }

  // Closes every idle connection: after one failed, the others (to the same, probably
  // restarted, server) are likely dead too, and each would cost a failed call to find out.
  void DropIdle() {
    std::vector<ContextPtr> dropped;
    {
      const std::lock_guard<std::mutex> lock(mu_);
      dropped.swap(idle_);
      open_ -= dropped.size();
    }
    freed_.notify_all();
  }  // Closed here, outside the lock.

 private:
  void Return(ContextPtr ctx, bool broken) {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      if (ctx != nullptr && !broken) {
        idle_.push_back(std::move(ctx));
        ctx = nullptr;
      } else {
        --open_;
      }
    }
    freed_.notify_one();
  }  // A broken connection is closed here, outside the lock.

  const RedisEndpoint& endpoint_;
  const std::size_t size_;
  std::mutex mu_;  // Guards idle_ and open_; never held during I/O.
  std::condition_variable freed_;
  std::vector<ContextPtr> idle_;  // Connected and unused; the most recently returned last.
  std::size_t open_ = 0;          // Connections that exist or are being opened (<= size_).
};

}  // namespace

// Everything behind the pimpl: the pool, the script's SHA-1 and the outage state.
struct RedisCounterStore::State {
  explicit State(const Options& o) : options(o), pool(o.endpoint, o.pool_size) {}

  // Runs `argv` on a pooled connection within `deadline`. A connection that fails is dropped,
  // and the idle ones with it. So is one that answers with an error other than NOSCRIPT
  // (READONLY after a failover, LOADING, NOAUTH after a restart with a new password, OOM...):
  // reconnecting (which resolves the host name again) is how a call finds the new primary.
  //
  // A pooled connection that turns out closed or reset (Redis restarted, its `timeout` closed
  // idle clients, a firewall dropped the flow) is not an outage by itself: the call tries once
  // more on a new connection, within the same deadline.
  CallResult<ReplyPtr> Call(std::span<const std::string_view> argv,
                            SteadyClock::time_point deadline) {
    for (int attempt = 0;; ++attempt) {
      CallResult<ConnectionPool::Lease> lease = pool.Acquire(deadline, connects);
      if (!lease) return std::unexpected(lease.error());
      CallResult<ReplyPtr> reply = Command(**lease, argv, deadline);
      if (!reply || (IsErrorReply(**reply) && !IsErrorReply(**reply, "NOSCRIPT"))) {
        lease->MarkBroken();
        pool.DropIdle();
      }
      if (!reply && reply.error().connection_lost && lease->reused() && attempt == 0) continue;
      return reply;
    }
  }

  // The script on `redis_key`: EVALSHA, and EVAL (which caches it again) if Redis has lost the
  // script (restarted, or SCRIPT FLUSH).
  CallResult<Decision> Eval(const std::string& redis_key, std::uint32_t max,
                            std::chrono::seconds window, TimePoint now, Mode mode,
                            SteadyClock::time_point deadline) {
    const Millis now_ms = ToUnixMillis(now);
    const Millis window_ms = std::chrono::duration_cast<std::chrono::milliseconds>(window).count();
    const std::string now_arg = std::to_string(now_ms);
    const std::string window_arg = std::to_string(window_ms);
    const std::string max_arg = std::to_string(max);
    const std::string_view hit_arg = mode == Mode::kHit ? "1" : "0";
    std::array<std::string_view, 8> argv = {"EVALSHA", sha,        "1",     redis_key,
                                            now_arg,   window_arg, max_arg, hit_arg};
    CallResult<ReplyPtr> reply = Call(argv, deadline);
    if (reply && IsErrorReply(**reply, "NOSCRIPT")) {
      argv[0] = "EVAL";
      argv[1] = kScript;
      reply = Call(argv, deadline);
    }
    if (!reply) return std::unexpected(reply.error());
    const redisReply& r = **reply;
    if (r.type == REDIS_REPLY_ERROR) return Down("script: " + ReplyText(r));
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 3) return Down("script: unexpected reply");
    for (std::size_t i = 0; i < 3; ++i) {
      if (r.element[i]->type != REDIS_REPLY_INTEGER) return Down("script: unexpected reply");
    }
    return Describe(r.element[0]->integer == 1, max, r.element[1]->integer, r.element[2]->integer,
                    window_ms, now_ms);
  }

  // Whether a CounterStore call should try Redis: always while it is up; during an outage,
  // once retry_interval has passed, and then only one call at a time (the probe; EndProbe).
  bool BeginAttempt() {
    if (up.load()) return true;
    if (SteadyClock::now().time_since_epoch().count() < retry_at.load()) return false;
    return !probing.exchange(true);
  }
  void EndAttempt() { probing.store(false); }

  void NoteSuccess() {
    ++redis_calls;
    if (!up.exchange(true)) {
      spdlog::info("rate limit: Redis at {} is back; counters are shared by the replicas again",
                   options.endpoint.Redacted());
    }
  }

  void NoteFailure(const CallError& error) {
    if (error.failure == Failure::kBusy) return;  // Slow, not down: nothing to probe.
    retry_at.store((SteadyClock::now() + options.retry_interval).time_since_epoch().count());
    if (up.exchange(false)) {
      ++outages;
      spdlog::warn(
          "rate limit: Redis at {} is unavailable ({}); counting in this process only (limits "
          "apply per replica) until it answers again",
          options.endpoint.Redacted(), error.detail);
    }
  }

  const Options& options;
  const std::string sha = Sha1Hex(kScript);
  ConnectionPool pool;

  // Outage state. `up` flips with exchange, so each transition is logged exactly once.
  std::atomic<bool> up{true};
  std::atomic<bool> probing{false};           // A call is trying Redis during an outage.
  std::atomic<SteadyClock::rep> retry_at{0};  // During an outage, no probe before this.
  std::atomic<std::uint64_t> redis_calls{0};
  std::atomic<std::uint64_t> fallback_calls{0};
  std::atomic<std::uint64_t> outages{0};
  std::atomic<std::uint64_t> connects{0};
};

RedisCounterStore::RedisCounterStore(Options options, CounterStore& fallback)
    : options_(std::move(options)), fallback_(fallback) {
  options_.pool_size = std::max<std::size_t>(options_.pool_size, 1);
  options_.timeout = std::max(options_.timeout, std::chrono::milliseconds(1));
  options_.retry_interval = std::max(options_.retry_interval, std::chrono::milliseconds(0));
  state_ = std::make_unique<State>(options_);
}

RedisCounterStore::~RedisCounterStore() = default;

std::string RedisCounterStore::RedisKey(std::string_view key) const {
  std::string out;
  out.reserve(options_.key_prefix.size() + key.size());
  out += options_.key_prefix;
  out += key;
  return out;
}

const std::string& RedisCounterStore::ScriptSha() const { return state_->sha; }

RedisCounterStore::Stats RedisCounterStore::stats() const {
  return Stats{.up = state_->up.load(),
               .redis_calls = state_->redis_calls.load(),
               .fallback_calls = state_->fallback_calls.load(),
               .outages = state_->outages.load(),
               .connects = state_->connects.load()};
}

Result<Decision> RedisCounterStore::Run(std::string_view key, std::uint32_t max,
                                        std::chrono::seconds window, TimePoint now, Mode mode) {
  const auto deadline = SteadyClock::now() + options_.timeout;
  CallResult<Decision> decision = state_->Eval(RedisKey(key), max, window, now, mode, deadline);
  if (!decision) {
    state_->NoteFailure(decision.error());
    return Fail(ErrorCode::kServiceUnavailable, "redis: " + decision.error().detail);
  }
  state_->NoteSuccess();
  return *decision;
}

Decision RedisCounterStore::WithFallback(std::string_view key, std::uint32_t max,
                                         std::chrono::seconds window, TimePoint now, Mode mode) {
  if (state_->BeginAttempt()) {
    Result<Decision> decision = Run(key, max, window, now, mode);
    state_->EndAttempt();
    if (decision) return *decision;
  }
  ++state_->fallback_calls;
  return mode == Mode::kHit ? fallback_.Hit(key, max, window, now)
                            : fallback_.Peek(key, max, window, now);
}

Decision RedisCounterStore::Hit(std::string_view key, std::uint32_t max,
                                std::chrono::seconds window, TimePoint now) {
  return WithFallback(key, max, window, now, Mode::kHit);
}

Decision RedisCounterStore::Peek(std::string_view key, std::uint32_t max,
                                 std::chrono::seconds window, TimePoint now) {
  return WithFallback(key, max, window, now, Mode::kPeek);
}

void RedisCounterStore::Reset(std::string_view key) {
  // Always in the fallback too: counts it made in an earlier outage must not come back.
  fallback_.Reset(key);
  if (state_->BeginAttempt()) {
    const Result<void> reset = TryReset(key);
    state_->EndAttempt();
    if (reset) return;
  }
  ++state_->fallback_calls;
}

Result<Decision> RedisCounterStore::TryHit(std::string_view key, std::uint32_t max,
                                           std::chrono::seconds window, TimePoint now) {
  return Run(key, max, window, now, Mode::kHit);
}

Result<Decision> RedisCounterStore::TryPeek(std::string_view key, std::uint32_t max,
                                            std::chrono::seconds window, TimePoint now) {
  return Run(key, max, window, now, Mode::kPeek);
}

Result<void> RedisCounterStore::TryReset(std::string_view key) {
  const auto deadline = SteadyClock::now() + options_.timeout;
  const std::string redis_key = RedisKey(key);
  const std::array<std::string_view, 2> argv = {"DEL", redis_key};
  CallResult<ReplyPtr> reply = state_->Call(argv, deadline);
  if (reply && (*reply)->type == REDIS_REPLY_ERROR) reply = Down("DEL: " + ReplyText(**reply));
  if (!reply) {
    state_->NoteFailure(reply.error());
    return Fail(ErrorCode::kServiceUnavailable, "redis: " + reply.error().detail);
  }
  state_->NoteSuccess();
  return {};
}

Result<void> RedisCounterStore::Ping() {
  const auto deadline = SteadyClock::now() + options_.timeout;
  const std::array<std::string_view, 1> argv = {"PING"};
  CallResult<ReplyPtr> reply = state_->Call(argv, deadline);
  if (reply && (*reply)->type != REDIS_REPLY_STATUS) reply = Down("PING: " + ReplyText(**reply));
  if (!reply) {
    state_->NoteFailure(reply.error());
    return Fail(ErrorCode::kServiceUnavailable, "redis: " + reply.error().detail);
  }
  state_->NoteSuccess();
  return {};
}

}  // namespace sessiond::ratelimit
