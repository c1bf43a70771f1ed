// The Beast/Asio HTTP/1.1 server. One io_context run by `threads` threads; the listener, the
// signal set and the shutdown sequence live on one "control" strand; each connection has its
// own strand; Execution::kBlocking handlers run on a separate thread pool.
//
// Connection life cycle (all on the connection's strand):
//   ReadRequest ─(header)→ [100 Continue] ─(body)→ HandleRequest ─→ Send ─(written)→
//     keep-alive? WaitForNextRequest (idle timeout) → ReadRequest
//     otherwise  CloseGracefully (half-close, drain, close)
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
#include <exception>
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
using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;
using SteadyClock = std::chrono::steady_clock;

// After a response that ends the connection we half-close and read (discarding) until the
// client closes, at most this long / this much, so that unread request bytes do not turn our
// close into a TCP reset that destroys the response in flight (RFC 9112 §9.6).
constexpr std::chrono::milliseconds kLingerMax{1000};
constexpr std::size_t kLingerMaxBytes = 1 << 20;
// Pause before accepting again after accept() failed (e.g. EMFILE), instead of spinning.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// Bytes read at once while waiting for the next request on a keep-alive connection.
constexpr std::size_t kIdleReadBytes = 4096;
// RFC 9110 §10.1.1 / §15.2.1: the interim response a client that sent
// "Expect: 100-continue" waits for before sending the body.
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && beast::iequals(s.substr(0, prefix.size()), prefix);
}

// RFC 9110 §5.6.2 token characters (a field name is a token, §5.1).
bool IsTokenChar(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsValidFieldName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), IsTokenChar);
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

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

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
      : server_(server), stream_(std::move(socket)), id_(id), peer_ip_(std::move(peer_ip)) {
    server_.live_connections.fetch_add(1);
  }

  ~Connection() {
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
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadRequest(); });
  }

  // Shutdown has begun: close now if no request is in progress, otherwise finish the current
  // one with "Connection: close". Any thread.
  void BeginDrain() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->draining_ = true;
      const bool nothing_received = self->state_ == State::kReading && self->buffer_.size() == 0 &&
                                    self->parser_.has_value() && !self->parser_->got_some();
      if (self->state_ == State::kIdle || nothing_received) self->Close();
    });
  }

  // The shutdown grace period is over. Any thread.
  void ForceClose() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kClosing };

  std::chrono::milliseconds ReadTimeout() const {
    return std::chrono::milliseconds(server_.options.read_timeout_ms);
  }

  // A fresh parser per request: Beast parsers are one-shot. The limits are per request.
  void ReadRequest() {
    state_ = State::kReading;
    started_ = SteadyClock::now();
    head_ = false;
    version_ = 11;
    keep_alive_ = false;
    log_method_ = "-";
    log_path_ = "-";
    parser_.emplace();
    parser_->header_limit(server_.options.max_header_bytes);
    parser_->body_limit(server_.options.max_body_bytes);
    // The whole request (header and body) must arrive before this deadline; a client
    // trickling bytes (slowloris) is cut off when it passes.
    stream_.expires_after(ReadTimeout());
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  void OnHeader(const beast::error_code& ec) {
    if (ec) return OnReadError(ec);
    const BeastRequest& request = parser_->get();
    log_method_ = std::string(request.method_string());
    log_path_ = std::string(SplitTarget(request.target()).first);
    if (parser_->is_done()) return HandleRequest();

    const auto expect = request.find(bhttp::field::expect);
    if (expect != request.end() && request.version() >= 11 &&
        EqualsIgnoreCase(expect->value(), "100-continue")) {
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                         if (write_ec) return self->Close();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->OnReadError(ec);
                        self->HandleRequest();
                      });
  }

  void OnReadError(const beast::error_code& ec) {
    if (ec == bhttp::error::header_limit) {
      // RFC 6585 §5: 431 Request Header Fields Too Large.
      return SendError(ErrorCode::kHeadersTooLarge, "request header over max_header_bytes");
    }
    if (ec == bhttp::error::body_limit) {
      // RFC 9110 §15.5.14: 413 Content Too Large; we close rather than read the rest.
      return SendError(ErrorCode::kPayloadTooLarge, "request body over max_body_bytes");
    }
    // The client went away (cleanly or mid-message), the read deadline passed (tcp_stream has
    // closed the socket), or we closed the socket: nobody to answer.
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec == beast::error::timeout || ec == net::error::operation_aborted) {
      return Close();
    }
    if (IsHttpParseError(ec)) {
      // RFC 9112 §2.2 / §3: an invalid request line, field or framing gets a 400, then close:
      // after a framing error the rest of the stream cannot be trusted.
      return SendError(ErrorCode::kBadRequest, "unparseable request: " + ec.message());
    }
    Close();  // Socket errors (reset, ...).
  }

  void SendError(ErrorCode code, std::string detail) {
    Send(ErrorResponse(Error{code, std::move(detail)}), /*close=*/true);
  }

  void HandleRequest() {
    state_ = State::kHandling;
    BeastRequest& beast_request = parser_->get();

    // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without a Host field and
    // to any request with more than one.
    const std::size_t hosts = beast_request.count(bhttp::field::host);
    if ((beast_request.version() >= 11 && hosts == 0) || hosts > 1) {
      return SendError(ErrorCode::kBadRequest, "missing or repeated Host header");
    }

    version_ = beast_request.version();
    keep_alive_ = beast_request.keep_alive();

    Request request;
    request.method = std::string(beast_request.method_string());
    for (char& c : request.method) c = AsciiUpper(c);
    const auto [raw_path, raw_query] = SplitTarget(beast_request.target());
    request.path = PercentDecode(raw_path);
    request.query = std::string(raw_query);
    for (const auto& field : beast_request) {
      request.headers.Add(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(beast_request.body());
    request.peer_ip = peer_ip_;
    // Several X-Forwarded-For lines are one comma-separated list (RFC 9110 §5.3).
    const std::vector<std::string_view> forwarded = request.headers.GetAll("x-forwarded-for");
    std::optional<std::string> joined;
    for (const std::string_view line : forwarded) {
      if (joined.has_value()) {
        *joined += ", ";
        *joined += line;
      } else {
        joined.emplace(line);
      }
    }
    request.client_ip = ClientIp(peer_ip_, joined, server_.options.trusted_proxies);

    // RFC 9110 §9.3.2: HEAD is GET without the content.
    head_ = request.method == "HEAD";
    if (head_) request.method = "GET";

    const Router::Match match = server_.router.Find(request.method, request.path);
    if (match.handler == nullptr) {
      return Send(server_.router.NotFoundOrNotAllowed(request.path), /*close=*/false);
    }
    if (match.execution == Execution::kInline) {
      return Send(InvokeHandler(*match.handler, request), /*close=*/false);
    }
    // kBlocking: run on the worker pool, answer on this connection's strand. The work guard
    // keeps the io_context running until the answer is posted back.
    net::post(server_.workers, [self = shared_from_this(), handler = match.handler,
                                request = std::move(request),
                                work = net::make_work_guard(server_.ioc)]() {
      Response response = InvokeHandler(*handler, request);
      net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->Send(std::move(response), /*close=*/false);
      });
    });
  }

  void Send(Response response, bool close) {
    state_ = State::kWriting;
    if (response.status < 200 || response.status > 599) {
      response = ErrorResponse(Error{ErrorCode::kInternal,
                                     "handler returned status " + std::to_string(response.status)});
    }

    BeastResponse res;
    res.version(version_);
    res.result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers.fields()) {
      if (!IsValidFieldName(name) || !IsValidFieldValue(value)) {
        spdlog::error("dropping a response header field with invalid characters");
        continue;
      }
      // Framing and connection management are the server's (RFC 9112 §6, §9.3).
      if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding") ||
          EqualsIgnoreCase(name, "connection")) {
        continue;
      }
      res.insert(name, value);
    }
    res.set(bhttp::field::server, "sessiond");
    // RFC 9110 §6.6.1: an origin server with a clock MUST send Date.
    if (res.find(bhttp::field::date) == res.end()) {
      res.set(bhttp::field::date, HttpDate(std::chrono::system_clock::now()));
    }
    res.body() = std::move(response.body);
    // RFC 9110 §15.3.5, §15.4.5: 204 and 304 have no content.
    if (response.status == 204 || response.status == 304) res.body().clear();

    bool keep_alive = keep_alive_ && !close && !draining_;
    res.keep_alive(keep_alive);
    res.prepare_payload();
    // HEAD: the Content-Length of the GET response, no content (RFC 9110 §9.3.2, §8.6).
    if (head_) res.body().clear();
    keep_alive = keep_alive && !res.need_eof();

    response_ = std::move(res);
    status_ = response.status;
    stream_.expires_after(ReadTimeout());
    bhttp::async_write(stream_, response_,
                       [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                         self->OnWrite(ec, keep_alive);
                       });
  }

  void OnWrite(const beast::error_code& ec, bool keep_alive) {
    // Method, path (no query: it may carry tokens), status and time. Never headers or bodies.
    const std::chrono::duration<double, std::milli> elapsed = SteadyClock::now() - started_;
    spdlog::debug("{} {} {} {:.3f}ms", log_method_, log_path_, status_, elapsed.count());
    response_ = {};
    if (ec) return Close();
    if (!keep_alive || draining_) return CloseGracefully();
    WaitForNextRequest();
  }

  // Between keep-alive requests the idle timeout applies; the read timeout starts with the
  // first byte of the next request.
  void WaitForNextRequest() {
    if (buffer_.size() > 0) return ReadRequest();  // Pipelined (RFC 9112 §9.3.2).
    state_ = State::kIdle;
    stream_.expires_after(std::chrono::milliseconds(server_.options.idle_timeout_ms));
    stream_.async_read_some(buffer_.prepare(kIdleReadBytes),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadRequest();
                            });
  }

  // RFC 9112 §9.6: close the sending half first, then read until the client closes, so that
  // request bytes still in flight do not provoke a reset that discards our response.
  void CloseGracefully() {
    state_ = State::kClosing;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    stream_.expires_after(std::min(kLingerMax, ReadTimeout()));
    Linger();
  }

  void Linger() {
    stream_.async_read_some(net::buffer(linger_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > kLingerMaxBytes) return self->Close();
                              self->Linger();
                            });
  }

  void Close() {
    state_ = State::kClosing;
    stream_.close();  // Cancels pending operations; their handlers drop the last references.
  }

  Impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  BeastResponse response_;
  std::array<char, 4096> linger_buffer_{};
  const std::uint64_t id_;
  const std::string peer_ip_;

  State state_ = State::kIdle;
  bool draining_ = false;
  std::size_t lingered_ = 0;
  // The request being served.
  SteadyClock::time_point started_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;
  int status_ = 0;
  std::string log_method_;
  std::string log_path_;
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
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
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
    try {
      (*task)();
    } catch (const std::exception& e) {
      spdlog::error("periodic task threw: {}", e.what());
    } catch (...) {
      spdlog::error("periodic task threw a non-std exception");
    }
    ArmTimer(timer, interval, task);
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
