// The Beast/Asio HTTP/1.1 server. One io_context run by `threads` threads; the listener, the
// signal set and the shutdown sequence live on one "control" strand; each connection has its
// own strand (with one I/O thread, the io_context's executor: nothing runs concurrently, so a
// strand would only add a queue per handler); Execution::kBlocking handlers run on a separate
// thread pool.
//
// Connection life cycle (all on the connection's executor):
//   StartRead ─(bytes)→ ProcessInput: Beast's parser fills an http::Request directly
//     ─(complete)→ HandleRequest ─→ Send: the response is serialised into one buffer and
//     written at once (non-blocking; only what the socket does not take is written
//     asynchronously) ─→ keep-alive? more buffered (pipelined, RFC 9112 §9.3.2)? ProcessInput
//     : StartRead (idle timeout) ; otherwise CloseGracefully (half-close, drain, close)
//   HandleRequest ─(Response::stream)→ StartStream ─(head written)→ streaming: a read stays
//     pending to notice the client leaving, chunks queued by the sink (any thread) are written
//     in order, a heartbeat timer ticks; the producer releasing the sink, shutdown or the
//     client leaving ends it → FinishStream (last chunk, half-close) or Close.
// Timeouts: one timer per connection and a deadline field. Moving the deadline later (the
// common case: each keep-alive request) is a field write; the timer, when it fires, re-arms for
// the current deadline or closes the connection. So a request costs no timer syscalls or
// cancellations (Beast's tcp_stream armed and cancelled a timer for every read and write).
// A connection is owned by the shared_ptrs its pending operations hold; it disappears when the
// last completion handler returns without starting another operation.
// GCC 12 at -O2/-O3 reports -Wnull-dereference and -Wmaybe-uninitialized false positives in
// Asio/Beast code inlined here (and in the libstdc++ code it inlines). The diagnostics are
// attributed to header lines, so silencing them across the includes only keeps this file's
// own code checked.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <ctime>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http/cookies.h"
#include "http/error_table.h"
#pragma GCC diagnostic pop

namespace sessiond::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Strand = net::strand<net::io_context::executor_type>;
using SteadyClock = std::chrono::steady_clock;
constexpr SteadyClock::time_point kNoDeadline = SteadyClock::time_point::max();

// After a response that ends the connection we half-close and read (discarding) until the
// client closes, at most this long / this much, so that unread request bytes do not turn our
// close into a TCP reset that destroys the response in flight (RFC 9112 §9.6).
constexpr std::chrono::milliseconds kLingerMax{1000};
constexpr std::size_t kLingerMaxBytes = 1 << 20;
// Pause before accepting again after accept() failed (e.g. EMFILE), instead of spinning.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// Bytes read at once (the input buffer grows beyond this only for a request that needs it).
constexpr std::size_t kReadBytes = 4096;
// RFC 9110 §10.1.1 / §15.2.1: the interim response a client that sent
// "Expect: 100-continue" waits for before sending the body.
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// RFC 9112 §7.1: the last chunk (size zero) and the empty trailer section end a chunked body.
constexpr std::string_view kLastChunk = "0\r\n\r\n";
// An SSE comment line (WHATWG HTML §9.2.6: a line starting with ':' is ignored by EventSource).
constexpr std::string_view kHeartbeat = ": ping\n\n";

char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && beast::iequals(s.substr(0, prefix.size()), prefix);
}

// RFC 9110 §5.6.2 token characters (a field name is a token, §5.1), as a lookup table.
constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> table{};
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}();

bool IsValidFieldName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return kTokenChars[static_cast<unsigned char>(c)];
  });
}

// What the server does with a response header field a handler set: framing (Content-Length,
// Transfer-Encoding), connection management (Connection) and Server are the server's and are
// dropped (RFC 9112 §6, §9.3); a Date replaces the server's own.
enum class FieldRole { kCopy, kDrop, kDate };
FieldRole RoleOf(std::string_view name) {
  switch (name.empty() ? '\0' : name.front()) {
    case 'c':
    case 'C':
      return EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "connection")
                 ? FieldRole::kDrop
                 : FieldRole::kCopy;
    case 't':
    case 'T':
      return EqualsIgnoreCase(name, "transfer-encoding") ? FieldRole::kDrop : FieldRole::kCopy;
    case 's':
    case 'S':
      return EqualsIgnoreCase(name, "server") ? FieldRole::kDrop : FieldRole::kCopy;
    case 'd':
    case 'D':
      return EqualsIgnoreCase(name, "date") ? FieldRole::kDate : FieldRole::kCopy;
    default:
      return FieldRole::kCopy;
  }
}

// RFC 9110 §5.5: CR, LF and NUL are never allowed in a field value (response splitting).
bool IsValidFieldValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// IMF-fixdate (RFC 9110 §5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT". Names are spelled out
// so the C locale's strftime is not needed.
std::string HttpDate(std::chrono::system_clock::time_point now) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "Thu, 01 Jan 1970 00:00:00 GMT";
  std::array<char, 40> buf{};
  const int n =
      std::snprintf(buf.data(), buf.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                    kDays[static_cast<std::size_t>(tm.tm_wday) % kDays.size()], tm.tm_mday,
                    kMonths[static_cast<std::size_t>(tm.tm_mon) % kMonths.size()],
                    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (n <= 0) return {};
  return std::string(buf.data(), std::min(static_cast<std::size_t>(n), buf.size() - 1));
}

// HttpDate(now), formatted at most once a second per thread. time() is the cheapest clock read
// there is (the vDSO returns the kernel's current second without reading the TSC).
std::string_view CachedHttpDate() {
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached;
  const std::time_t second = std::time(nullptr);
  if (second != cached_second) {
    cached = HttpDate(std::chrono::system_clock::from_time_t(second));
    cached_second = second;
  }
  return cached;
}

// The monotonic clock at the kernel tick's resolution (CLOCK_MONOTONIC_COARSE, a few ms; a vDSO
// read without the TSC), on steady_clock's time line (CLOCK_MONOTONIC in libstdc++): enough
// for a keep-alive idle deadline of seconds, which is set after every response.
SteadyClock::time_point CoarseNow() {
  timespec ts{};
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0) return SteadyClock::now();
  return SteadyClock::time_point(std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

void AppendDecimal(std::string& out, std::size_t n) {
  std::array<char, 24> digits{};
  std::size_t i = digits.size();
  do {
    digits[--i] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  out.append(digits.data() + i, digits.size() - i);
}

// The socket peer as text; IPv4-mapped IPv6 (dual-stack listeners) shown as IPv4.
std::string PeerIp(const tcp::endpoint& endpoint) {
  const net::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

// The path part of a request-target: origin-form "/p?q" or absolute-form
// "http://host/p?q" (RFC 9112 §3.2.1, §3.2.2: a server MUST accept the absolute form).
// Returns {raw path, raw query}.
std::pair<std::string_view, std::string_view> SplitTarget(std::string_view target) {
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (StartsWithIgnoreCase(target, scheme)) {
      target.remove_prefix(scheme.size());
      const std::size_t authority_end = target.find_first_of("/?");
      target = authority_end == std::string_view::npos ? std::string_view()
                                                       : target.substr(authority_end);
      break;
    }
  }
  const std::size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  if (path.empty()) path = "/";
  return {path, query};
}

// The boundary where a handler's exception becomes a 500: the one catch of the transport.
Response InvokeHandler(const Handler& handler, const Request& request) {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    return ErrorResponse(Error{ErrorCode::kInternal, "handler for " + request.method + " " +
                                                         request.path + " threw: " + e.what()});
  } catch (...) {
    return ErrorResponse(
        Error{ErrorCode::kInternal,
              "handler for " + request.method + " " + request.path + " threw a non-std exception"});
  }
}

// Fills an http::Request straight from Beast's parser callbacks: no intermediate Beast message
// with its per-field allocations. Limits, framing (Content-Length / chunked, RFC 9112 §6) and
// syntax checks are basic_parser's. One-shot, like every Beast parser.
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  RequestParser(Request& request, std::uint64_t body_limit)
      : request_(request), body_limit_(body_limit) {
    header_limit(0);  // Set by the caller; basic_parser's defaults are not ours.
  }

  [[nodiscard]] unsigned version() const { return version_; }
  [[nodiscard]] std::size_t host_fields() const { return host_fields_; }
  [[nodiscard]] bool expects_continue() const { return expects_continue_; }

 private:
  void on_request_impl(bhttp::verb /*method*/, beast::string_view method, beast::string_view target,
                       int version, beast::error_code& /*ec*/) override {
    request_.headers.Reserve(8);  // Typical requests: one allocation for the field list.
    request_.method.assign(method.data(), method.size());
    for (char& c : request_.method) c = AsciiUpper(c);
    const auto [raw_path, raw_query] = SplitTarget(std::string_view(target.data(), target.size()));
    request_.path = PercentDecode(raw_path);
    request_.query.assign(raw_query);
    version_ = static_cast<unsigned>(version);
  }

  void on_response_impl(int /*code*/, beast::string_view /*reason*/, int /*version*/,
                        beast::error_code& ec) override {
    ec = bhttp::error::bad_method;  // A request parser never sees a status line.
  }

  void on_field_impl(bhttp::field name, beast::string_view name_string, beast::string_view value,
                     beast::error_code& /*ec*/) override {
    if (name == bhttp::field::host) {
      ++host_fields_;
    } else if (name == bhttp::field::expect &&
               EqualsIgnoreCase(std::string_view(value.data(), value.size()), "100-continue")) {
      expects_continue_ = true;
    }
    request_.headers.Add(std::string(name_string.data(), name_string.size()),
                         std::string(value.data(), value.size()));
  }

  void on_header_impl(beast::error_code& /*ec*/) override {}

  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         beast::error_code& /*ec*/) override {
    if (content_length) {
      request_.body.reserve(static_cast<std::size_t>(std::min(*content_length, body_limit_)));
    }
  }

  std::size_t on_body_impl(beast::string_view body, beast::error_code& /*ec*/) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t /*size*/, beast::string_view /*extensions*/,
                            beast::error_code& /*ec*/) override {}

  std::size_t on_chunk_body_impl(std::uint64_t /*remain*/, beast::string_view body,
                                 beast::error_code& /*ec*/) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(beast::error_code& /*ec*/) override {}

  Request& request_;
  const std::uint64_t body_limit_;
  unsigned version_ = 11;
  std::size_t host_fields_ = 0;
  bool expects_continue_ = false;
};

// RFC 9112 §7.1: chunk = chunk-size (hex) CRLF chunk-data CRLF.
void AppendChunk(std::string& out, std::string_view data) {
  std::array<char, 2 * sizeof(std::size_t) + 1> hex{};
  const int n = std::snprintf(hex.data(), hex.size(), "%zx", data.size());
  out.append(hex.data(), static_cast<std::size_t>(std::max(n, 0)));
  out += "\r\n";
  out += data;
  out += "\r\n";
}

// What a streaming connection and its producer's sink share. The producer side (Push,
// ProducerDone) runs on any thread; the connection side (Take, Written, Finish, Detach) on the
// connection's strand. Whenever there is something for the connection to do, `notify_` is
// posted to the strand (at most one pending at a time).
class StreamChannel {
 public:
  StreamChannel(net::any_io_executor executor, std::function<void()> notify,
                std::size_t max_queued_bytes)
      : executor_(std::move(executor)),
        notify_(std::move(notify)),
        max_queued_bytes_(max_queued_bytes) {}

  // EventSink::Send.
  bool Push(std::string chunk) {
    const std::lock_guard lock(mu_);
    if (!open_.load()) return false;
    if (chunk.empty()) return true;  // A zero-size chunk would end a chunked body.
    if (queued_bytes_ + chunk.size() > max_queued_bytes_) {
      overflowed_ = true;
      open_.store(false);
      NotifyLocked();
      return false;
    }
    queued_bytes_ += chunk.size();
    queue_.push_back(std::move(chunk));
    NotifyLocked();
    return true;
  }

  // The last sink was released: the body ends after what is queued.
  void ProducerDone() {
    const std::lock_guard lock(mu_);
    open_.store(false);
    finished_ = true;
    NotifyLocked();
  }

  [[nodiscard]] bool open() const { return open_.load(); }

  // Connection side. Whether a Push went over the bound.
  [[nodiscard]] bool overflowed() const {
    const std::lock_guard lock(mu_);
    return overflowed_;
  }

  // Everything queued so far; `finished` once nothing more will come.
  struct Batch {
    std::deque<std::string> chunks;
    bool finished = false;
  };
  Batch Take() {
    const std::lock_guard lock(mu_);
    notify_pending_ = false;
    Batch batch;
    batch.chunks.swap(queue_);
    batch.finished = finished_;
    return batch;
  }

  // `bytes` of chunk data have been written: they no longer count against the bound.
  void Written(std::size_t bytes) {
    const std::lock_guard lock(mu_);
    queued_bytes_ -= std::min(bytes, queued_bytes_);
  }

  // Shutdown: refuse further chunks and end the body after what is queued.
  void Finish() {
    const std::lock_guard lock(mu_);
    open_.store(false);
    finished_ = true;
  }

  // The connection is closed (or gone): refuse everything, notify nobody. Also drops the
  // executor, which must not outlive the io_context (a strand's destructor reaches into it),
  // while the producer may hold its sink for as long as it likes.
  void Detach() {
    const std::lock_guard lock(mu_);
    open_.store(false);
    attached_ = false;
    queue_.clear();
    executor_.reset();
  }

 private:
  void NotifyLocked() {
    if (!attached_ || notify_pending_ || !executor_) return;
    notify_pending_ = true;
    net::post(*executor_, notify_);
  }

  std::optional<net::any_io_executor> executor_;  // Guarded by mu_ (reset by Detach).
  const std::function<void()> notify_;
  const std::size_t max_queued_bytes_;
  std::atomic<bool> open_{true};  // Written under mu_; read without it by open().
  mutable std::mutex mu_;
  std::deque<std::string> queue_;  // Guarded by mu_, as is everything below.
  std::size_t queued_bytes_ = 0;   // Queued or being written.
  bool finished_ = false;
  bool overflowed_ = false;
  bool attached_ = true;
  bool notify_pending_ = false;
};

// The producer's handle. Releasing the last shared_ptr to it ends the stream.
class StreamSink final : public EventSink {
 public:
  explicit StreamSink(std::shared_ptr<StreamChannel> channel) : channel_(std::move(channel)) {}
  ~StreamSink() override { channel_->ProducerDone(); }
  StreamSink(const StreamSink&) = delete;
  StreamSink& operator=(const StreamSink&) = delete;

  bool Send(std::string chunk) override { return channel_->Push(std::move(chunk)); }
  [[nodiscard]] bool open() const override { return channel_->open(); }

 private:
  std::shared_ptr<StreamChannel> channel_;
};

}  // namespace

struct Server::Impl {
  class Connection;

  Impl(ServerOptions server_options, const Router& server_router);

  void RequestStop();
  void BeginShutdown();  // On the control strand.
  void DoAccept();       // On the control strand.
  void OnAccept(const beast::error_code& ec, tcp::socket socket);
  void OnConnectionGone();  // Any thread; from ~Connection.
  void ArmTimer(const std::shared_ptr<net::steady_timer>& timer, std::chrono::milliseconds interval,
                const std::shared_ptr<std::function<void()>>& task);
  std::vector<std::shared_ptr<Connection>> LiveConnections();

  const ServerOptions options;
  const Router& router;
  const std::uint32_t io_threads;

  // Touched by ~Connection, so declared before the io_context (destroyed after it).
  std::atomic<std::uint32_t> live_connections{0};
  std::atomic<bool> stopping{false};
  std::atomic<std::uint16_t> bound_port{0};
  std::mutex mu;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections;  // Guarded by mu.
  std::vector<std::shared_ptr<net::steady_timer>> timers;                    // Guarded by mu.

  net::io_context ioc;
  Strand control;
  // Control-strand state.
  tcp::acceptor acceptor;
  net::steady_timer accept_retry_timer;
  net::steady_timer grace_timer;
  std::optional<net::signal_set> signals;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::uint64_t next_connection_id = 0;
  bool shutdown_started = false;

  // Declared last: destroyed (stopped and joined) first, while everything its queued tasks
  // reference is still alive.
  net::thread_pool workers;
};

class Server::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Impl& server, tcp::socket socket, std::uint64_t id, std::string peer_ip)
      : server_(server),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        id_(id),
        peer_ip_(std::move(peer_ip)) {
    server_.live_connections.fetch_add(1);
  }

  ~Connection() {
    if (channel_) channel_->Detach();
    {
      const std::lock_guard lock(server_.mu);
      server_.connections.erase(id_);
    }
    server_.OnConnectionGone();
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts serving. Any thread.
  void Start() {
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      // Writes are attempted at once and must not block the I/O thread (Write).
      self->socket_.non_blocking(true, ec);
      if (ec) return self->Close();
      // The first request must arrive within the read timeout (a connection that never sends
      // anything is cut off like a slow one).
      self->state_ = State::kReading;
      self->SetDeadline(SteadyClock::now() + self->ReadTimeout());
      self->StartRead();
    });
  }

  // Shutdown has begun: close now if no request is in progress, otherwise finish the current
  // one with "Connection: close". Any thread.
  void BeginDrain() {
    net::post(socket_.get_executor(), [self = shared_from_this()] {
      self->draining_ = true;
      if (self->state_ == State::kIdle ||
          (self->state_ == State::kReading && self->NothingReceived())) {
        return self->Close();
      }
      // An open stream would never finish by itself: end it now (what is queued is still
      // written, then the last chunk).
      if (self->state_ == State::kStreaming && self->channel_) {
        self->channel_->Finish();
        self->FlushStream();
      }
    });
  }

  // The shutdown grace period is over. Any thread.
  void ForceClose() {
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kStreaming, kClosing };
  // What follows a write that could not finish at once.
  enum class Then { kResponse, kContinue, kStreamHead };

  std::chrono::milliseconds ReadTimeout() const {
    return std::chrono::milliseconds(server_.options.read_timeout_ms);
  }

  bool NothingReceived() const {
    return buffer_.size() == 0 && (!parser_.has_value() || !parser_->got_some());
  }

  // --- Deadlines ------------------------------------------------------------------------------

  // The connection is closed when `deadline` passes, unless the deadline moves first.
  void SetDeadline(SteadyClock::time_point deadline) {
    deadline_ = deadline;
    // A timer due no later than the deadline re-arms itself when it fires (OnTimer).
    if (timer_armed_ && timer_expiry_ <= deadline) return;
    ArmTimer(deadline);
  }

  void ClearDeadline() { deadline_ = kNoDeadline; }

  void ArmTimer(SteadyClock::time_point at) {
    timer_armed_ = true;
    timer_expiry_ = at;
    timer_.expires_at(at);  // Cancels a pending wait; its handler sees operation_aborted.
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) { self->OnTimer(ec); });
  }

  void OnTimer(const beast::error_code& ec) {
    if (ec) return;  // Re-armed or closed.
    timer_armed_ = false;
    if (deadline_ == kNoDeadline) return;
    if (SteadyClock::now() < deadline_) return ArmTimer(deadline_);
    // Idle keep-alive connection, request not complete in time, client not taking the
    // response (or a stream's events), linger over: nobody to answer.
    spdlog::debug("http: connection {} timed out", id_);
    Close();
  }

  // --- Reading and parsing --------------------------------------------------------------------

  void StartRead() {
    socket_.async_read_some(buffer_.prepare(kReadBytes),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              // End of stream, reset, or our own close: nobody to answer (a
                              // request cut short included).
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ProcessInput();
                            });
  }

  // Between keep-alive requests the idle timeout applies; the read timeout starts with the
  // first byte of the next request.
  void WaitForRequest() {
    state_ = State::kIdle;
    SetDeadline(CoarseNow() + std::chrono::milliseconds(server_.options.idle_timeout_ms));
    StartRead();
  }

  // A fresh parser per request: Beast parsers are one-shot. The limits are per request.
  void BeginRequest() {
    request_ = Request{};
    parser_.emplace(request_, server_.options.max_body_bytes);
    parser_->header_limit(server_.options.max_header_bytes);
    parser_->body_limit(server_.options.max_body_bytes);
    log_ = LogRequests();
    if (log_) {
      request_started_ = SteadyClock::now();
      log_method_ = "-";
      log_path_ = "-";
    }
    read_deadline_set_ = false;
    continue_sent_ = false;
  }

  // Parses what has arrived and answers every complete request in turn (several when the client
  // pipelines, RFC 9112 §9.3.2); reads when a request is incomplete or nothing is buffered.
  void ProcessInput() {
    for (;;) {
      if (!parser_.has_value()) {
        if (buffer_.size() == 0) return WaitForRequest();
        BeginRequest();
      }
      while (buffer_.size() > 0 && !parser_->is_done()) {
        beast::error_code ec;
        const std::size_t used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec == bhttp::error::need_more) break;
        if (ec) return OnParseError(ec);
        // RFC 9110 §10.1.1: a client that sent "Expect: 100-continue" waits for the interim
        // response before sending the body.
        if (parser_->is_header_done() && !parser_->is_done() && !continue_sent_ &&
            parser_->expects_continue() && parser_->version() >= 11 && buffer_.size() == 0) {
          continue_sent_ = true;
          out_.assign(kContinue);
          body_.clear();
          if (!Write(Then::kContinue)) return;
        }
      }
      if (!parser_->is_done()) {
        // The whole request (header and body) must arrive before this deadline; a client
        // trickling bytes (slowloris) is cut off when it passes.
        state_ = State::kReading;
        if (!read_deadline_set_) {
          // Counted from about the first byte: this runs as soon as it has been read.
          read_deadline_set_ = true;
          SetDeadline(SteadyClock::now() + ReadTimeout());
        }
        return StartRead();
      }
      if (!HandleRequest()) return;
    }
  }

  void OnParseError(const beast::error_code& ec) {
    version_ = parser_->version() >= 10 ? parser_->version() : 11;
    if (ec == bhttp::error::header_limit) {
      // RFC 6585 §5: 431 Request Header Fields Too Large.
      return SendError(ErrorCode::kHeadersTooLarge, "request header over max_header_bytes");
    }
    if (ec == bhttp::error::body_limit) {
      // RFC 9110 §15.5.14: 413 Content Too Large; we close rather than read the rest.
      return SendError(ErrorCode::kPayloadTooLarge, "request body over max_body_bytes");
    }
    // RFC 9112 §2.2 / §3: an invalid request line, field or framing gets a 400, then close:
    // after a framing error the rest of the stream cannot be trusted.
    SendError(ErrorCode::kBadRequest, "unparseable request: " + ec.message());
  }

  void SendError(ErrorCode code, std::string detail) {
    parser_.reset();
    Send(ErrorResponse(Error{code, std::move(detail)}), /*close=*/true);
  }

  // --- Handling -------------------------------------------------------------------------------

  // Answers the parsed request. True when the answer is written and the connection goes on
  // with the next request at once; false when the answer is pending (worker pool, a write the
  // socket did not take at once) or the connection is closing.
  bool HandleRequest() {
    state_ = State::kHandling;
    version_ = parser_->version();
    keep_alive_ = parser_->keep_alive();
    const std::size_t hosts = parser_->host_fields();
    parser_.reset();
    Request request = std::move(request_);
    ClearDeadline();

    // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without a Host field and
    // to any request with more than one.
    if ((version_ >= 11 && hosts == 0) || hosts > 1) {
      Send(ErrorResponse(Error{ErrorCode::kBadRequest, "missing or repeated Host header"}),
           /*close=*/true);
      return false;
    }

    request.peer_ip = peer_ip_;
    if (server_.options.trusted_proxies.empty()) {
      request.client_ip = peer_ip_;  // No proxy is trusted: X-Forwarded-For means nothing.
    } else {
      // Several X-Forwarded-For lines are one comma-separated list (RFC 9110 §5.3).
      std::optional<std::string> joined;
      for (const std::string_view line : request.headers.GetAll("x-forwarded-for")) {
        if (joined.has_value()) {
          *joined += ", ";
          *joined += line;
        } else {
          joined.emplace(line);
        }
      }
      request.client_ip = ClientIp(peer_ip_, joined, server_.options.trusted_proxies);
    }

    // RFC 9110 §9.3.2: HEAD is GET without the content.
    head_ = request.method == "HEAD";
    if (head_) request.method = "GET";
    if (log_) {
      log_method_ = head_ ? "HEAD" : request.method;
      log_path_ = request.path;  // No query: it may carry tokens.
    }

    const Router::Match match = server_.router.Find(request.method, request.path);
    if (match.handler == nullptr) {
      return Send(server_.router.NotFoundOrNotAllowed(request.path), /*close=*/false);
    }
    if (match.execution == Execution::kInline) {
      return Send(InvokeHandler(*match.handler, request), /*close=*/false);
    }
    // kBlocking: run on the worker pool, answer on this connection's executor. The work guard
    // keeps the io_context running until the answer is posted back.
    net::post(server_.workers, [self = shared_from_this(), handler = match.handler,
                                request = std::move(request),
                                work = net::make_work_guard(server_.ioc)]() {
      Response response = InvokeHandler(*handler, request);
      net::post(self->socket_.get_executor(), [self, response = std::move(response)]() mutable {
        if (self->Send(std::move(response), /*close=*/false)) self->ProcessInput();
      });
    });
    return false;
  }

  static bool LogRequests() {
    return spdlog::default_logger_raw()->should_log(spdlog::level::debug);
  }

  // The status line and header section (RFC 9112 §4, §5) into out_. Framing and connection
  // management are the server's (RFC 9112 §6, §9.3): the handler's Content-Length,
  // Transfer-Encoding and Connection fields are dropped, as is Server (ours is set).
  // `content_length` unset means no Content-Length (204, 304, and streams).
  void SerializeHead(const Response& response, std::optional<std::size_t> content_length,
                     bool chunked, bool keep_alive) {
    out_.clear();
    out_ += version_ >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ";
    AppendDecimal(out_, static_cast<std::size_t>(response.status));
    out_ += ' ';
    const beast::string_view reason =
        bhttp::obsolete_reason(static_cast<bhttp::status>(response.status));
    out_.append(reason.data(), reason.size());
    out_ += "\r\n";
    bool has_date = false;
    for (const auto& [name, value] : response.headers.fields()) {
      if (!IsValidFieldName(name) || !IsValidFieldValue(value)) {
        spdlog::error("dropping a response header field with invalid characters");
        continue;
      }
      const FieldRole role = RoleOf(name);
      if (role == FieldRole::kDrop) continue;
      if (role == FieldRole::kDate) has_date = true;
      out_ += name;
      out_ += ": ";
      out_ += value;
      out_ += "\r\n";
    }
    out_ += "Server: sessiond\r\n";
    // RFC 9110 §6.6.1: an origin server with a clock MUST send Date.
    if (!has_date) {
      out_ += "Date: ";
      out_ += CachedHttpDate();
      out_ += "\r\n";
    }
    if (chunked) {
      out_ += "Transfer-Encoding: chunked\r\n";
    } else if (content_length.has_value()) {
      out_ += "Content-Length: ";
      AppendDecimal(out_, *content_length);
      out_ += "\r\n";
    }
    // RFC 9112 §9.3: HTTP/1.1 is persistent unless "close"; HTTP/1.0 only with "keep-alive".
    if (version_ >= 11 && !keep_alive) out_ += "Connection: close\r\n";
    if (version_ < 11 && keep_alive) out_ += "Connection: keep-alive\r\n";
    out_ += "\r\n";
  }

  // Same contract as HandleRequest.
  bool Send(Response response, bool close) {
    state_ = State::kWriting;
    if (response.status < 200 || response.status > 599) {
      response = ErrorResponse(Error{ErrorCode::kInternal,
                                     "handler returned status " + std::to_string(response.status)});
    }
    status_ = response.status;
    if (response.stream) {
      StartStream(response);
      return false;
    }
    keep_alive_after_write_ = keep_alive_ && !close && !draining_;
    // RFC 9110 §15.3.5, §15.4.5: 204 and 304 have no content (and no Content-Length).
    const bool no_content = response.status == 204 || response.status == 304;
    if (no_content) response.body.clear();
    SerializeHead(response,
                  no_content ? std::nullopt : std::optional<std::size_t>(response.body.size()),
                  /*chunked=*/false, keep_alive_after_write_);
    // HEAD: the Content-Length of the GET response, no content (RFC 9110 §9.3.2, §8.6).
    body_ = head_ ? std::string() : std::move(response.body);
    if (!Write(Then::kResponse)) return false;
    return ResponseDone();
  }

  // Writes out_ then body_. The socket usually takes it all at once: then true, and the caller
  // goes on. Otherwise the rest is written asynchronously (the client must take it within the
  // read timeout) and `then` continues from OnWritten; false (also when the write failed and the
  // connection closed).
  bool Write(Then then) {
    const std::array<net::const_buffer, 2> buffers{net::buffer(out_), net::buffer(body_)};
    const std::size_t total = out_.size() + body_.size();
    beast::error_code ec;
    const std::size_t written = socket_.write_some(buffers, ec);
    if (!ec && written == total) return true;
    if (ec && ec != net::error::would_block && ec != net::error::try_again) {
      Close();
      return false;
    }
    pending_.emplace(buffers);
    pending_->consume(ec ? 0 : written);
    SetDeadline(SteadyClock::now() + ReadTimeout());
    net::async_write(socket_, *pending_,
                     [self = shared_from_this(), then](beast::error_code write_ec, std::size_t) {
                       self->pending_.reset();
                       self->ClearDeadline();
                       if (write_ec) return self->Close();
                       switch (then) {
                         case Then::kResponse:
                           if (self->ResponseDone()) self->ProcessInput();
                           return;
                         case Then::kContinue:
                           return self->ProcessInput();
                         case Then::kStreamHead:
                           return self->OnStreamHead();
                       }
                     });
    return false;
  }

  // The response is written. True when the connection goes on with the next request.
  bool ResponseDone() {
    if (log_) {
      // Method, path (no query: it may carry tokens), status and time. Never headers or bodies.
      const std::chrono::duration<double, std::milli> elapsed =
          SteadyClock::now() - request_started_;
      spdlog::debug("{} {} {} {:.3f}ms", log_method_, log_path_, status_, elapsed.count());
    }
    if (body_.capacity() > kReadBytes) body_ = std::string();  // Keep idle connections small.
    if (!keep_alive_after_write_ || draining_) {
      CloseGracefully();
      return false;
    }
    return true;
  }

  // --- Streamed responses ---------------------------------------------------------------------

  // Streamed response: the head now, then chunks as the producer sends them. The connection
  // ends with the stream (Connection: close), so the stream needs no request framing after it.
  void StartStream(const Response& response) {
    state_ = State::kStreaming;
    // RFC 9112 §7.1: chunked for HTTP/1.1; an HTTP/1.0 client gets a close-delimited body.
    chunked_ = version_ >= 11;
    SerializeHead(response, std::nullopt, chunked_, /*keep_alive=*/false);
    body_.clear();
    if (log_) spdlog::debug("{} {} {} stream", log_method_, log_path_, status_);
    if (!head_) {  // RFC 9110 §9.3.2: HEAD gets the head only; no producer.
      channel_ = std::make_shared<StreamChannel>(
          socket_.get_executor(),
          [weak = weak_from_this()] {
            if (auto self = weak.lock()) self->OnStreamActivity();
          },
          server_.options.max_stream_queue_bytes);
    }
    stream_writing_ = true;  // The head goes first; FlushStream waits for it.
    if (Write(Then::kStreamHead)) OnStreamHead();
    if (!channel_ || state_ == State::kClosing) return;
    try {
      response.stream(std::make_shared<StreamSink>(channel_));
    } catch (const std::exception& e) {
      spdlog::error("stream producer for {} threw: {}", log_path_, e.what());
      Close();
    } catch (...) {
      spdlog::error("stream producer for {} threw a non-std exception", log_path_);
      Close();
    }
  }

  void OnStreamHead() {
    stream_writing_ = false;
    if (state_ != State::kStreaming) return Close();
    if (head_) return CloseGracefully();
    ReadWhileStreaming();
    ArmHeartbeat();
    FlushStream();
  }

  // Keeps a read pending for as long as the stream is open, so that a client closing the
  // connection closes the sink at once instead of at the next failed write. An event-stream
  // client has nothing to send: its bytes are discarded (at most kLingerMaxBytes). After
  // FinishStream this is also the linger read.
  void ReadWhileStreaming() {
    socket_.async_read_some(net::buffer(linger_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > kLingerMaxBytes) return self->Close();
                              self->ReadWhileStreaming();
                            });
  }

  void ArmHeartbeat() {
    if (server_.options.stream_heartbeat_ms == 0) return;
    if (!heartbeat_) heartbeat_.emplace(socket_.get_executor());
    heartbeat_->expires_after(std::chrono::milliseconds(server_.options.stream_heartbeat_ms));
    heartbeat_->async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->state_ != State::kStreaming || !self->channel_) return;
      self->channel_->Push(std::string(kHeartbeat));  // Dropped client: Push notifies.
      self->ArmHeartbeat();
    });
  }

  // Posted by the channel: chunks queued, the producer done, or the client over the bound.
  void OnStreamActivity() {
    if (state_ != State::kStreaming || !channel_) return;
    // Checked before FlushStream, which waits while a write is stuck on this very client.
    if (channel_->overflowed()) {
      spdlog::warn("http: dropping a stream client that does not keep up (over {} bytes queued)",
                   server_.options.max_stream_queue_bytes);
      return Close();
    }
    FlushStream();
  }

  // Writes everything queued as one batch; after the batch that carries the producer's end,
  // the last chunk and FinishStream.
  void FlushStream() {
    if (stream_writing_ || state_ != State::kStreaming || !channel_) return;
    StreamChannel::Batch batch = channel_->Take();
    if (batch.chunks.empty() && !batch.finished) return;
    stream_out_.clear();
    std::size_t payload = 0;
    for (const std::string& chunk : batch.chunks) {
      payload += chunk.size();
      if (chunked_) {
        AppendChunk(stream_out_, chunk);
      } else {
        stream_out_ += chunk;
      }
    }
    last_batch_ = batch.finished;
    if (last_batch_ && chunked_) stream_out_ += kLastChunk;
    if (stream_out_.empty()) return FinishStream();
    stream_writing_ = true;
    // A client that stops reading stalls the write; it gets read_timeout_ms per batch.
    SetDeadline(SteadyClock::now() + ReadTimeout());
    net::async_write(socket_, net::buffer(stream_out_),
                     [self = shared_from_this(), payload](beast::error_code ec, std::size_t) {
                       self->stream_writing_ = false;
                       self->ClearDeadline();
                       if (ec) return self->Close();
                       self->channel_->Written(payload);
                       if (self->last_batch_) return self->FinishStream();
                       self->FlushStream();
                     });
  }

  // The body is complete: half-close and let the pending read see the client's close, for
  // at most kLingerMax (RFC 9112 §9.6, as CloseGracefully).
  void FinishStream() {
    state_ = State::kClosing;
    if (channel_) channel_->Detach();
    if (heartbeat_) heartbeat_->cancel();
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    SetDeadline(SteadyClock::now() + std::min(kLingerMax, ReadTimeout()));
  }

  // --- Closing --------------------------------------------------------------------------------

  // RFC 9112 §9.6: close the sending half first, then read until the client closes, so that
  // request bytes still in flight do not provoke a reset that discards our response.
  void CloseGracefully() {
    state_ = State::kClosing;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    SetDeadline(SteadyClock::now() + std::min(kLingerMax, ReadTimeout()));
    Linger();
  }

  void Linger() {
    socket_.async_read_some(net::buffer(linger_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > kLingerMaxBytes) return self->Close();
                              self->Linger();
                            });
  }

  void Close() {
    state_ = State::kClosing;
    ClearDeadline();
    if (channel_) channel_->Detach();
    if (heartbeat_) heartbeat_->cancel();
    timer_.cancel();
    timer_armed_ = false;
    beast::error_code ec;
    socket_.close(ec);  // Cancels pending operations; their handlers drop the last references.
  }

  Impl& server_;
  tcp::socket socket_;
  net::steady_timer timer_;    // Fires at timer_expiry_; see SetDeadline.
  beast::flat_buffer buffer_;  // Received, not yet parsed.
  Request request_;            // Being parsed into by parser_.
  std::optional<RequestParser> parser_;
  std::string out_;   // The response head (or an interim response) being written.
  std::string body_;  // The response body being written.
  std::optional<beast::buffers_suffix<std::array<net::const_buffer, 2>>> pending_;
  std::array<char, 4096> linger_buffer_{};
  const std::uint64_t id_;
  const std::string peer_ip_;

  State state_ = State::kIdle;
  bool draining_ = false;
  std::size_t lingered_ = 0;
  SteadyClock::time_point deadline_ = kNoDeadline;
  SteadyClock::time_point timer_expiry_;
  bool timer_armed_ = false;
  // The request being served.
  SteadyClock::time_point request_started_;
  bool read_deadline_set_ = false;
  bool continue_sent_ = false;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool keep_alive_after_write_ = false;
  bool head_ = false;
  int status_ = 0;
  bool log_ = false;  // Debug logging was on when the request began.
  std::string log_method_ = "-";
  std::string log_path_ = "-";
  // Streamed response state (StartStream).
  std::shared_ptr<StreamChannel> channel_;
  std::optional<net::steady_timer> heartbeat_;
  std::string stream_out_;  // The batch being written.
  bool chunked_ = true;
  bool stream_writing_ = false;
  bool last_batch_ = false;
};

Server::Impl::Impl(ServerOptions server_options, const Router& server_router)
    : options(std::move(server_options)),
      router(server_router),
      io_threads(options.threads != 0 ? options.threads
                                      : std::max(1u, std::thread::hardware_concurrency())),
      ioc(static_cast<int>(io_threads)),
      control(net::make_strand(ioc)),
      acceptor(control),
      accept_retry_timer(control),
      grace_timer(control),
      work(net::make_work_guard(ioc)),
      workers(options.blocking_threads != 0 ? options.blocking_threads
                                            : std::max(1u, std::thread::hardware_concurrency())) {}

void Server::Impl::RequestStop() {
  if (stopping.exchange(true)) return;
  net::post(control, [this] { BeginShutdown(); });
}

void Server::Impl::BeginShutdown() {
  if (shutdown_started) return;
  shutdown_started = true;
  spdlog::info("http: shutting down; {} connection(s) open", live_connections.load());

  beast::error_code ec;
  acceptor.close(ec);
  accept_retry_timer.cancel();
  if (signals.has_value()) {
    // Restores the default dispositions: a second SIGINT/SIGTERM ends the process at once.
    signals->clear(ec);
    signals->cancel(ec);
  }
  {
    const std::lock_guard lock(mu);
    for (const auto& timer : timers) {
      net::post(timer->get_executor(), [timer] { timer->cancel(); });
    }
    timers.clear();
  }
  work.reset();  // Run returns once the remaining work is done.

  for (const auto& connection : LiveConnections()) connection->BeginDrain();
  if (live_connections.load() == 0) return;

  grace_timer.expires_after(std::chrono::milliseconds(options.shutdown_grace_ms));
  grace_timer.async_wait([this](beast::error_code wait_ec) {
    if (wait_ec) return;  // Cancelled: every connection finished in time.
    const auto remaining = LiveConnections();
    if (remaining.empty()) return;
    spdlog::warn("http: shutdown grace period over; closing {} connection(s)", remaining.size());
    for (const auto& connection : remaining) connection->ForceClose();
  });
}

std::vector<std::shared_ptr<Server::Impl::Connection>> Server::Impl::LiveConnections() {
  std::vector<std::shared_ptr<Connection>> live;
  const std::lock_guard lock(mu);
  live.reserve(connections.size());
  for (const auto& [id, weak] : connections) {
    if (auto connection = weak.lock()) live.push_back(std::move(connection));
  }
  return live;
}

void Server::Impl::OnConnectionGone() {
  if (live_connections.fetch_sub(1) == 1 && stopping.load()) {
    // The last connection is gone during shutdown: no need to wait for the grace period.
    net::post(control, [this] { grace_timer.cancel(); });
  }
}

void Server::Impl::DoAccept() {
  if (shutdown_started || !acceptor.is_open()) return;
  // With one I/O thread nothing runs concurrently: the io_context's executor serialises a
  // connection's handlers without a strand's per-handler queueing.
  const net::any_io_executor executor =
      io_threads > 1 ? net::any_io_executor(net::make_strand(ioc)) : ioc.get_executor();
  acceptor.async_accept(executor, [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void Server::Impl::OnAccept(const beast::error_code& ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || shutdown_started || !acceptor.is_open()) return;
  if (ec) {
    // E.g. out of file descriptors: back off instead of spinning on the error.
    spdlog::warn("http: accept failed: {}", ec.message());
    accept_retry_timer.expires_after(kAcceptRetryDelay);
    accept_retry_timer.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec) DoAccept();
    });
    return;
  }
  beast::error_code socket_ec;
  if (live_connections.load() >= options.max_connections) {
    spdlog::debug("http: max_connections ({}) reached; closing a new connection",
                  options.max_connections);
    socket.close(socket_ec);
    return DoAccept();
  }
  const tcp::endpoint peer = socket.remote_endpoint(socket_ec);
  if (socket_ec) {
    socket.close(socket_ec);
    return DoAccept();
  }
  // Each response is one write; Nagle's algorithm would only hold back a stream's events
  // (and a response behind unacknowledged data) until the peer's delayed ACK.
  socket.set_option(tcp::no_delay(true), socket_ec);
  const std::uint64_t id = next_connection_id++;
  auto connection = std::make_shared<Connection>(*this, std::move(socket), id, PeerIp(peer));
  {
    const std::lock_guard lock(mu);
    connections.emplace(id, connection);
  }
  connection->Start();
  DoAccept();
}

void Server::Impl::ArmTimer(const std::shared_ptr<net::steady_timer>& timer,
                            std::chrono::milliseconds interval,
                            const std::shared_ptr<std::function<void()>>& task) {
  // On the timer's strand. Checking `stopping` here orders us against BeginShutdown's cancel,
  // which is posted to the same strand after `stopping` is set.
  if (stopping.load()) return;
  timer->expires_after(interval);
  timer->async_wait([this, timer, interval, task](beast::error_code ec) {
    if (ec || stopping.load()) return;
    // On the worker pool, never on an I/O thread: with threads=1 a sweep's fsync'd DELETE would
    // stall every connection meanwhile. The work guard keeps Run from returning mid-task; the
    // next wait is armed after the task, so runs of one task never overlap.
    net::post(workers, [this, timer, interval, task, work = net::make_work_guard(ioc)] {
      try {
        (*task)();
      } catch (const std::exception& e) {
        spdlog::error("periodic task threw: {}", e.what());
      } catch (...) {
        spdlog::error("periodic task threw a non-std exception");
      }
      net::post(timer->get_executor(),
                [this, timer, interval, task] { ArmTimer(timer, interval, task); });
    });
  });
}

Server::Server(ServerOptions options, const Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

Server::~Server() = default;

Result<void> Server::Listen() {
  Impl& impl = *impl_;
  if (impl.acceptor.is_open()) return Fail(ErrorCode::kServiceUnavailable, "already listening");

  std::string host = impl.options.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // "[::1]" → "::1".
  }
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(host, ec);
  if (ec) {
    if (host != "localhost") {
      return Fail(ErrorCode::kServiceUnavailable,
                  "host '" + host + "' is neither an IP address nor 'localhost'");
    }
    address = net::ip::address_v4::loopback();
  }
  const tcp::endpoint endpoint(address, impl.options.port);
  const std::string where = host + ":" + std::to_string(impl.options.port);
  const auto fail = [&](std::string_view step) -> Result<void> {
    const std::string reason = std::string(step) + " " + where + ": " + ec.message();
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    return Fail(ErrorCode::kServiceUnavailable, reason);
  };

  if (impl.acceptor.open(endpoint.protocol(), ec); ec) return fail("open");
  if (impl.acceptor.set_option(net::socket_base::reuse_address(true), ec); ec) {
    return fail("setsockopt SO_REUSEADDR");
  }
  if (impl.acceptor.bind(endpoint, ec); ec) return fail("bind");
  if (impl.acceptor.listen(net::socket_base::max_listen_connections, ec); ec) {
    return fail("listen");
  }
  const tcp::endpoint bound = impl.acceptor.local_endpoint(ec);
  if (ec) return fail("getsockname");
  impl.bound_port.store(bound.port());
  spdlog::info("http: listening on {}:{}", bound.address().to_string(), bound.port());
  return {};
}

std::uint16_t Server::port() const { return impl_->bound_port.load(); }

void Server::Run(bool handle_signals) {
  Impl& impl = *impl_;
  if (handle_signals) {
    impl.signals.emplace(impl.control, SIGINT, SIGTERM);
    impl.signals->async_wait([&impl](beast::error_code ec, int signal_number) {
      if (ec) return;
      spdlog::info("http: signal {} received", signal_number);
      impl.RequestStop();
    });
  }
  net::post(impl.control, [&impl] { impl.DoAccept(); });

  std::vector<std::thread> threads;
  threads.reserve(impl.io_threads - 1);
  for (std::uint32_t i = 1; i < impl.io_threads; ++i) {
    threads.emplace_back([&impl] { impl.ioc.run(); });
  }
  impl.ioc.run();
  for (std::thread& thread : threads) thread.join();
  // Blocking handlers still running hold work on the io_context, so by now the pool is idle.
  impl.workers.join();
  spdlog::info("http: stopped");
}

void Server::Stop() { impl_->RequestStop(); }

void Server::Every(std::chrono::milliseconds interval, std::function<void()> task) {
  Impl& impl = *impl_;
  auto timer = std::make_shared<net::steady_timer>(net::make_strand(impl.ioc));
  auto shared_task = std::make_shared<std::function<void()>>(std::move(task));
  {
    const std::lock_guard lock(impl.mu);
    if (impl.stopping.load()) return;
    impl.timers.push_back(timer);
  }
  net::post(timer->get_executor(),
            [&impl, timer, interval, shared_task] { impl.ArmTimer(timer, interval, shared_task); });
}

}  // namespace sessiond::http
