// GCC 12 at -O2/-O3 reports -Wnull-dereference and -Wmaybe-uninitialized false positives in
// Asio/Beast code inlined here (and in the libstdc++ code it inlines). The diagnostics are
// attributed to header lines, so silencing them across the includes only keeps this file's
// own code checked.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#pragma GCC diagnostic pop

namespace sessiond::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using BeastResponse = bhttp::response<bhttp::string_body>;

// Upper bound for any single client operation, so a broken server fails a test instead of
// hanging it.
constexpr auto kOpTimeout = 2s;

// A raw HTTP client over one TCP connection. Every operation runs its own io_context with a
// deadline.
class Client {
 public:
  // Connects to 127.0.0.1:port; false if the connection was refused.
  bool Connect(std::uint16_t port) {
    bool ok = false;
    stream_.expires_after(kOpTimeout);
    stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                          [&](beast::error_code ec) { ok = !ec; });
    RunIo();
    return ok;
  }

  bool Send(std::string_view bytes) {
    bool ok = false;
    stream_.expires_after(kOpTimeout);
    net::async_write(stream_, net::buffer(bytes.data(), bytes.size()),
                     [&](beast::error_code ec, std::size_t) { ok = !ec; });
    RunIo();
    return ok;
  }

  // The next response, or nullopt on error/close/timeout.
  std::optional<BeastResponse> Read(bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(head);
    parser.body_limit(10 * 1024 * 1024);
    bool ok = false;
    stream_.expires_after(kOpTimeout);
    bhttp::async_read(stream_, buffer_, parser,
                      [&](beast::error_code ec, std::size_t) { ok = !ec; });
    RunIo();
    if (!ok) return std::nullopt;
    return parser.release();
  }

  std::optional<BeastResponse> RoundTrip(std::string_view bytes, bool head = false) {
    if (!Send(bytes)) return std::nullopt;
    return Read(head);
  }

  // Whether the server closes the connection within `timeout` (reads until EOF or error;
  // any bytes received first are discarded).
  bool ClosedByPeer(std::chrono::steady_clock::duration timeout = kOpTimeout) {
    std::array<char, 1024> scratch{};
    beast::error_code result;
    bool done = false;
    stream_.expires_after(timeout);
    std::function<void()> read_more = [&] {
      stream_.async_read_some(net::buffer(scratch), [&](beast::error_code ec, std::size_t) {
        if (ec) {
          result = ec;
          done = true;
          return;
        }
        read_more();
      });
    };
    if (buffer_.size() > 0) buffer_.consume(buffer_.size());
    read_more();
    RunIo();
    return done && result != beast::error::timeout;
  }

  // Reads the head of a streamed (chunked) response; its body is then read with
  // ReadStreamUntil / ReadStreamToEnd and collected, de-chunked, in stream_body().
  std::optional<bhttp::response_header<>> ReadStreamHead() {
    stream_parser_.emplace();
    stream_body_.clear();
    stream_parser_->on_chunk_body(on_chunk_);
    bool ok = false;
    stream_.expires_after(kOpTimeout);
    bhttp::async_read_header(stream_, buffer_, *stream_parser_,
                             [&](beast::error_code ec, std::size_t) { ok = !ec; });
    RunIo();
    if (!ok) return std::nullopt;
    return stream_parser_->get().base();
  }

  // Reads the streamed body until it contains `needle`: false if the body ended, the
  // connection failed or `timeout` passed first.
  bool ReadStreamUntil(std::string_view needle,
                       std::chrono::steady_clock::duration timeout = kOpTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (stream_body_.find(needle) == std::string::npos) {
      if (stream_parser_->is_done() || !ReadStreamSome(deadline)) return false;
    }
    return true;
  }

  // Reads until the chunked body's last chunk: true if it came before `timeout`.
  bool ReadStreamToEnd(std::chrono::steady_clock::duration timeout = kOpTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!stream_parser_->is_done()) {
      if (!ReadStreamSome(deadline)) return false;
    }
    return true;
  }

  const std::string& stream_body() const { return stream_body_; }

  beast::tcp_stream& stream() { return stream_; }
  net::io_context& io() { return ioc_; }

 private:
  bool ReadStreamSome(std::chrono::steady_clock::time_point deadline) {
    bool ok = false;
    stream_.expires_at(deadline);
    bhttp::async_read_some(stream_, buffer_, *stream_parser_,
                           [&](beast::error_code ec, std::size_t) { ok = !ec; });
    RunIo();
    return ok;
  }

  void RunIo() {
    ioc_.restart();
    ioc_.run();
  }

  net::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::empty_body>> stream_parser_;
  std::string stream_body_;
  // Beast keeps a reference to the callback: it lives as long as the client.
  std::function<std::size_t(std::uint64_t, std::string_view, beast::error_code&)> on_chunk_ =
      [this](std::uint64_t, std::string_view data, beast::error_code&) {
        stream_body_ += data;
        return data.size();
      };
};

std::string Get(std::string_view path, std::string_view extra_headers = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

std::string CodeOf(const BeastResponse& response) {
  const boost::json::value body = boost::json::parse(response.body());
  return std::string(body.as_object().at("code").as_string());
}

Handler Text(std::string text) {
  return [text = std::move(text)](const Request&) {
    Response response;
    response.headers.Add("content-type", "text/plain");
    response.body = text;
    return response;
  };
}

ServerOptions TestOptions() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  options.blocking_threads = 2;
  options.shutdown_grace_ms = 1500;
  return options;
}

// Runs a Server on an ephemeral port in a background thread; stops and joins on destruction.
class RunningServer {
 public:
  RunningServer(const Router& router, ServerOptions options) : server_(std::move(options), router) {
    const Result<void> listening = server_.Listen();
    EXPECT_TRUE(listening.has_value()) << listening.error().detail;
    run_returned_ = run_done_.get_future();
    thread_ = std::thread([this] {
      run_thread_id_ = std::this_thread::get_id();
      server_.Run(/*handle_signals=*/false);
      run_done_.set_value();
    });
    // Wait until the server answers (a short retry loop, not a sleep-as-wait).
    for (int attempt = 0; attempt < 100; ++attempt) {
      Client probe;
      if (probe.Connect(port())) break;
      std::this_thread::sleep_for(10ms);
    }
  }

  ~RunningServer() {
    server_.Stop();
    thread_.join();
  }

  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  std::uint16_t port() { return server_.port(); }
  Server& server() { return server_; }
  // Whether Run has returned within `timeout`.
  bool RunReturned(std::chrono::milliseconds timeout) {
    return run_returned_.wait_for(timeout) == std::future_status::ready;
  }
  std::thread::id run_thread_id() const { return run_thread_id_; }

 private:
  Server server_;
  std::promise<void> run_done_;
  std::future<void> run_returned_;
  std::atomic<std::thread::id> run_thread_id_{};
  std::thread thread_;
};

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    router_.Add("GET", "/hello", Text("hi"));
    router_.Add("POST", "/echo", [](const Request& request) {
      Response response;
      response.body = request.body;
      return response;
    });
    router_.Add("GET", "/inspect", [](const Request& request) {
      boost::json::object o;
      o["method"] = request.method;
      o["path"] = request.path;
      o["query"] = request.query;
      o["q"] = request.QueryParam("q").value_or("<none>");
      o["peer"] = request.peer_ip;
      o["client"] = request.client_ip;
      o["ua"] = std::string(request.headers.Get("user-agent").value_or(""));
      return Response::Json(200, boost::json::serialize(o));
    });
    router_.Add("GET", "/throws",
                [](const Request&) -> Response { throw std::runtime_error("handler bug"); });
  }

  Router router_;
};

TEST_F(ServerTest, ServesARoute) {
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const auto response = client.RoundTrip(Get("/hello"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 200u);
  EXPECT_EQ(response->body(), "hi");
  EXPECT_EQ((*response)[bhttp::field::server], "sessiond");
  EXPECT_EQ((*response)[bhttp::field::content_length], "2");
  EXPECT_EQ((*response)[bhttp::field::content_type], "text/plain");
  EXPECT_FALSE((*response)[bhttp::field::date].empty());
  EXPECT_TRUE(response->keep_alive());
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  for (int i = 0; i < 3; ++i) {
    const auto response = client.RoundTrip(Get("/hello"));
    ASSERT_TRUE(response.has_value()) << i;
    EXPECT_EQ(response->body(), "hi");
  }
  const auto last = client.RoundTrip(Get("/hello", "Connection: close\r\n"));
  ASSERT_TRUE(last.has_value());
  EXPECT_FALSE(last->keep_alive());
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.Send(Get("/hello") +
                          "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nfirst" +
                          Get("/nope")));
  const auto a = client.Read();
  const auto b = client.Read();
  const auto c = client.Read();
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->body(), "hi");
  EXPECT_EQ(b->body(), "first");
  EXPECT_EQ(c->result_int(), 404u);
}

TEST_F(ServerTest, TranslatesTheRequest) {
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const auto response = client.RoundTrip(Get("/insp%65ct?q=a%2Bb+c&x=1",
                                             "User-Agent: test-agent\r\n"
                                             "X-Forwarded-For: 9.9.9.9\r\n"));
  ASSERT_TRUE(response.has_value());
  ASSERT_EQ(response->result_int(), 200u);
  EXPECT_EQ((*response)[bhttp::field::content_type], "application/json");
  const boost::json::object o = boost::json::parse(response->body()).as_object();
  EXPECT_EQ(o.at("method").as_string(), "GET");
  EXPECT_EQ(o.at("path").as_string(), "/inspect");
  EXPECT_EQ(o.at("query").as_string(), "q=a%2Bb+c&x=1");
  EXPECT_EQ(o.at("q").as_string(), "a+b c");
  EXPECT_EQ(o.at("peer").as_string(), "127.0.0.1");
  // 127.0.0.1 is not a trusted proxy here: the header is ignored.
  EXPECT_EQ(o.at("client").as_string(), "127.0.0.1");
  EXPECT_EQ(o.at("ua").as_string(), "test-agent");
}

TEST_F(ServerTest, TrustedProxyForwardedForSetsClientIp) {
  ServerOptions options = TestOptions();
  options.trusted_proxies = {"127.0.0.0/8"};
  RunningServer server(router_, options);
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const auto response = client.RoundTrip(
      Get("/inspect", "X-Forwarded-For: 6.6.6.6, 9.9.9.9\r\nX-Forwarded-For: 127.0.0.5\r\n"));
  ASSERT_TRUE(response.has_value());
  const boost::json::object o = boost::json::parse(response->body()).as_object();
  EXPECT_EQ(o.at("client").as_string(), "9.9.9.9");
  EXPECT_EQ(o.at("peer").as_string(), "127.0.0.1");
}

TEST_F(ServerTest, AbsoluteFormTargetIsAccepted) {
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const auto response = client.RoundTrip(Get("http://test/hello"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body(), "hi");
}

TEST_F(ServerTest, UnknownPathIs404Json) {
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const auto response = client.RoundTrip(Get("/nope?token=secret"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 404u);
  EXPECT_EQ((*response)[bhttp::field::content_type], "application/json");
  EXPECT_EQ(response->body(), R"({"message":"Not found","code":"NOT_FOUND"})");
  EXPECT_TRUE(response->keep_alive());
}

TEST_F(ServerTest, WrongMethodIs405WithAllow) {
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const auto response =
      client.RoundTrip("DELETE /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 405u);
  EXPECT_EQ((*response)[bhttp::field::allow], "POST");
  EXPECT_EQ(CodeOf(*response), "METHOD_NOT_ALLOWED");
}

TEST_F(ServerTest, HeadIsGetWithoutBody) {
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const auto head = client.RoundTrip("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n", /*head=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->result_int(), 200u);
  EXPECT_EQ((*head)[bhttp::field::content_length], "2");
  EXPECT_TRUE(head->body().empty());
  // The connection is still in sync: no stray body bytes.
  const auto next = client.RoundTrip(Get("/hello"));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body(), "hi");
}

TEST_F(ServerTest, ExpectContinueGetsInterimResponse) {
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.Send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  const auto interim = client.Read();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->result_int(), 100u);
  ASSERT_TRUE(client.Send("body"));
  const auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body(), "body");
}

TEST_F(ServerTest, BodyOverLimitIs413AndCloses) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 16;
  RunningServer server(router_, options);
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  // The answer comes from the header alone; the client need not send the body.
  const auto response =
      client.RoundTrip("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 413u);
  EXPECT_EQ(CodeOf(*response), "PAYLOAD_TOO_LARGE");
  EXPECT_FALSE(response->keep_alive());
  EXPECT_TRUE(client.ClosedByPeer());

  // A body within the limit is fine; so is exactly the limit.
  Client ok;
  ASSERT_TRUE(ok.Connect(server.port()));
  const auto small =
      ok.RoundTrip("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 16\r\n\r\n0123456789abcdef");
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ(small->body(), "0123456789abcdef");
}

TEST_F(ServerTest, ChunkedBodyOverLimitIs413) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 16;
  RunningServer server(router_, options);
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const std::string chunk(40, 'x');
  const auto response = client.RoundTrip(
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n" + chunk +
      "\r\n0\r\n\r\n");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 413u);
}

TEST_F(ServerTest, HeadersOverLimitAre431) {
  ServerOptions options = TestOptions();
  options.max_header_bytes = 512;
  RunningServer server(router_, options);
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const auto response =
      client.RoundTrip(Get("/hello", "Cookie: " + std::string(2000, 'c') + "\r\n"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 431u);
  EXPECT_EQ(CodeOf(*response), "REQUEST_HEADER_FIELDS_TOO_LARGE");
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST_F(ServerTest, GarbageIs400AndTheServerKeepsServing) {
  RunningServer server(router_, TestOptions());
  for (const std::string garbage :
       {"\x01\x02garbage\r\n\r\n", "GET /hello HTTP/9.9\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n",
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"}) {
    Client client;
    ASSERT_TRUE(client.Connect(server.port()));
    const auto response = client.RoundTrip(garbage);
    ASSERT_TRUE(response.has_value()) << garbage;
    EXPECT_EQ(response->result_int(), 400u) << garbage;
    EXPECT_EQ((*response)[bhttp::field::content_type], "application/json");
    EXPECT_EQ(CodeOf(*response), "BAD_REQUEST");
    EXPECT_TRUE(client.ClosedByPeer());
  }
  Client next;
  ASSERT_TRUE(next.Connect(server.port()));
  const auto response = next.RoundTrip(Get("/hello"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body(), "hi");
}

TEST_F(ServerTest, MissingHostIs400) {
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const auto response = client.RoundTrip("GET /hello HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 400u);
  // HTTP/1.0 needs no Host.
  Client old;
  ASSERT_TRUE(old.Connect(server.port()));
  const auto ok = old.RoundTrip("GET /hello HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->body(), "hi");
  EXPECT_FALSE(ok->keep_alive());
}

TEST_F(ServerTest, SlowClientIsCutOffAtTheReadTimeout) {
  ServerOptions options = TestOptions();
  options.read_timeout_ms = 300;
  RunningServer server(router_, options);
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.Send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: "));

  // Trickle one byte every 50 ms: each read makes progress, but the whole request must
  // arrive within read_timeout_ms.
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  std::array<char, 64> scratch{};
  client.stream().expires_never();
  client.stream().async_read_some(net::buffer(scratch),
                                  [&](beast::error_code, std::size_t) { closed = true; });
  for (int i = 0; i < 40 && !closed; ++i) {
    net::async_write(client.stream(), net::buffer("a", 1), [](beast::error_code, std::size_t) {});
    client.io().restart();
    client.io().run_for(50ms);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closed);
  EXPECT_LT(elapsed, 1500ms);
  EXPECT_GE(elapsed, 200ms);
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosed) {
  ServerOptions options = TestOptions();
  options.idle_timeout_ms = 200;
  RunningServer server(router_, options);
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.RoundTrip(Get("/hello")).has_value());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.ClosedByPeer(1500ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
}

TEST_F(ServerTest, ConnectionsBeyondTheLimitAreClosed) {
  ServerOptions options = TestOptions();
  options.max_connections = 2;
  RunningServer server(router_, options);
  Client first;
  Client second;
  ASSERT_TRUE(first.Connect(server.port()));
  ASSERT_TRUE(first.RoundTrip(Get("/hello")).has_value());
  ASSERT_TRUE(second.Connect(server.port()));
  ASSERT_TRUE(second.RoundTrip(Get("/hello")).has_value());

  Client third;
  ASSERT_TRUE(third.Connect(server.port()));  // The kernel accepts; the server closes.
  EXPECT_TRUE(third.ClosedByPeer());

  // Once a slot frees up, new connections are served again.
  ASSERT_TRUE(first.RoundTrip(Get("/hello", "Connection: close\r\n")).has_value());
  EXPECT_TRUE(first.ClosedByPeer());
  first.stream().close();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    Client again;
    served = again.Connect(server.port()) && again.RoundTrip(Get("/hello")).has_value();
    if (!served) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(served);
}

TEST_F(ServerTest, BlockingHandlersRunOffTheIoThreads) {
  std::mutex mu;
  std::thread::id inline_id;
  std::thread::id blocking_id;
  router_.Add("GET", "/inline", [&](const Request&) {
    const std::lock_guard lock(mu);
    inline_id = std::this_thread::get_id();
    return Response{};
  });
  router_.Add(
      "GET", "/blocking",
      [&](const Request&) {
        const std::lock_guard lock(mu);
        blocking_id = std::this_thread::get_id();
        return Response::Json(200, "{}");
      },
      Execution::kBlocking);
  ServerOptions options = TestOptions();
  options.threads = 1;  // The I/O thread is Run's caller.
  RunningServer server(router_, options);
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.RoundTrip(Get("/inline")).has_value());
  const auto response = client.RoundTrip(Get("/blocking"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body(), "{}");
  const std::lock_guard lock(mu);
  EXPECT_EQ(inline_id, server.run_thread_id());
  EXPECT_NE(blocking_id, server.run_thread_id());
  EXPECT_NE(blocking_id, std::thread::id());
}

TEST_F(ServerTest, ThrowingHandlerIs500AndTheServerKeepsServing) {
  router_.Add(
      "GET", "/throws-blocking", [](const Request&) -> Response { throw std::logic_error("bug"); },
      Execution::kBlocking);
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  for (const char* path : {"/throws", "/throws-blocking"}) {
    const auto response = client.RoundTrip(Get(path));
    ASSERT_TRUE(response.has_value()) << path;
    EXPECT_EQ(response->result_int(), 500u);
    EXPECT_EQ(response->body(),
              R"({"message":"Internal server error","code":"INTERNAL_SERVER_ERROR"})");
  }
  const auto next = client.RoundTrip(Get("/hello"));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body(), "hi");
}

TEST_F(ServerTest, InvalidResponseHeadersAreDropped) {
  router_.Add("GET", "/split", [](const Request&) {
    Response response;
    response.headers.Add("x-ok", "fine");
    response.headers.Add("x-bad", "a\r\nset-cookie: evil=1");
    response.headers.Add("bad name", "v");
    response.headers.Add("content-length", "999");
    return response;
  });
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const auto response = client.RoundTrip(Get("/split"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ((*response)["x-ok"], "fine");
  EXPECT_EQ(response->count("x-bad"), 0u);
  EXPECT_EQ(response->count(bhttp::field::set_cookie), 0u);
  EXPECT_EQ((*response)[bhttp::field::content_length], "0");
}

TEST_F(ServerTest, HandlerDateIsKeptAndServerIsOurs) {
  router_.Add("GET", "/dated", [](const Request&) {
    Response response;
    response.headers.Add("Date", "Sun, 06 Nov 1994 08:49:37 GMT");
    response.headers.Add("server", "not-us");
    response.headers.Add("Transfer-Encoding", "chunked");
    response.headers.Add("Connection", "close");
    response.headers.Add("content-language", "en");  // Starts like content-length: kept.
    response.body = "dated";
    return response;
  });
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const auto response = client.RoundTrip(Get("/dated"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->count(bhttp::field::date), 1u);
  EXPECT_EQ((*response)[bhttp::field::date], "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(response->count(bhttp::field::server), 1u);
  EXPECT_EQ((*response)[bhttp::field::server], "sessiond");
  EXPECT_EQ(response->count(bhttp::field::transfer_encoding), 0u);
  EXPECT_EQ((*response)[bhttp::field::content_length], "5");
  EXPECT_EQ((*response)[bhttp::field::content_language], "en");
  EXPECT_TRUE(response->keep_alive());  // The handler's "Connection: close" was not ours.
  EXPECT_EQ(response->body(), "dated");
  EXPECT_TRUE(client.RoundTrip(Get("/hello")).has_value());
}

TEST_F(ServerTest, NoContentHasNoLengthAndHttp10KeepAliveIsHonoured) {
  router_.Add("GET", "/empty", [](const Request&) {
    Response response;
    response.status = 204;
    response.body = "dropped";
    return response;
  });
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const auto empty = client.RoundTrip(Get("/empty"));
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->result_int(), 204u);
  EXPECT_EQ(empty->count(bhttp::field::content_length), 0u);  // RFC 9110 §8.6.
  EXPECT_TRUE(empty->body().empty());
  // HTTP/1.0 persists only when asked (RFC 9112 §9.3), and the answer says so.
  const auto old = client.RoundTrip("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->version(), 10u);
  EXPECT_TRUE(old->keep_alive());
  EXPECT_EQ(old->body(), "hi");
  const auto again = client.RoundTrip(Get("/hello"));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->body(), "hi");
}

TEST_F(ServerTest, LargeResponseIsWrittenWholeAndTheConnectionGoesOn) {
  // Far more than the socket buffers take at once: the rest is written asynchronously.
  const std::string big(std::size_t{8} << 20, 'b');
  router_.Add("GET", "/big", Text(big));
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.Send(Get("/big") + Get("/hello")));  // Pipelined behind it.
  const auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body().size(), big.size());
  EXPECT_EQ(response->body(), big);
  const auto next = client.Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body(), "hi");
}

TEST_F(ServerTest, ClientThatStopsReadingIsCutOffAtTheReadTimeout) {
  router_.Add("GET", "/big", Text(std::string(std::size_t{64} << 20, 'b')));
  ServerOptions options = TestOptions();
  options.read_timeout_ms = 200;
  RunningServer server(router_, options);
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.Send(Get("/big")));
  // Reading nothing, the client stalls the write once the socket buffers are full.
  std::this_thread::sleep_for(600ms);
  EXPECT_TRUE(client.ClosedByPeer(5s));  // Drains what was buffered, then sees the close.
}

TEST_F(ServerTest, GracefulStopFinishesTheInFlightRequest) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  router_.Add(
      "GET", "/slow",
      [&entered, released](const Request&) {
        entered.set_value();
        released.wait();
        Response response;
        response.body = "done";
        return response;
      },
      Execution::kBlocking);
  RunningServer server(router_, TestOptions());
  Client idle;  // A keep-alive connection between requests: closed at once on Stop.
  ASSERT_TRUE(idle.Connect(server.port()));
  ASSERT_TRUE(idle.RoundTrip(Get("/hello")).has_value());

  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.Send(Get("/slow")));
  ASSERT_EQ(entered.get_future().wait_for(kOpTimeout), std::future_status::ready);

  server.server().Stop();
  EXPECT_TRUE(idle.ClosedByPeer());
  // No new connections once stopping.
  bool refused = false;
  for (int attempt = 0; attempt < 50 && !refused; ++attempt) {
    Client late;
    refused = !late.Connect(server.port());
    if (!refused) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(refused);
  EXPECT_FALSE(server.RunReturned(50ms));  // Still waiting for /slow.

  release.set_value();
  const auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body(), "done");
  EXPECT_FALSE(response->keep_alive());
  EXPECT_TRUE(client.ClosedByPeer());
  client.stream().close();
  EXPECT_TRUE(server.RunReturned(1s));
}

TEST_F(ServerTest, StopForceClosesAfterTheGracePeriod) {
  ServerOptions options = TestOptions();
  options.shutdown_grace_ms = 200;
  options.read_timeout_ms = 10'000;
  RunningServer server(router_, options);
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.Send("GET /hello HTTP/1.1\r\nHost: t\r\n"));  // Never finished.
  // Let the server read the partial request before stopping.
  std::this_thread::sleep_for(50ms);
  const auto start = std::chrono::steady_clock::now();
  server.server().Stop();
  EXPECT_TRUE(client.ClosedByPeer());
  EXPECT_TRUE(server.RunReturned(1s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
}

TEST_F(ServerTest, EveryRunsTheTaskUntilShutdown) {
  std::atomic<int> runs{0};
  std::promise<void> twice;
  RunningServer server(router_, TestOptions());
  server.server().Every(10ms, [&] {
    const int n = ++runs;
    if (n == 2) twice.set_value();
    if (n == 3) throw std::runtime_error("task failure is logged, the loop goes on");
  });
  EXPECT_EQ(twice.get_future().wait_for(kOpTimeout), std::future_status::ready);
  for (int i = 0; i < 200 && runs.load() < 5; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_GE(runs.load(), 5);
}

// Hands the sink of a streamed response from the handler (an I/O thread) to the test.
class SinkSlot {
 public:
  // A handler answering an event stream whose sink lands in this slot.
  Handler EventStream() {
    return [this](const Request&) {
      Response response;
      response.headers.Add("content-type", "text/event-stream");
      response.headers.Add("cache-control", "no-store");
      response.stream = [this](std::shared_ptr<EventSink> sink) {
        const std::lock_guard lock(mu_);
        sink_ = std::move(sink);
        ++calls_;
        cv_.notify_all();
      };
      return response;
    };
  }

  // The sink, once the producer was called (null after kOpTimeout).
  std::shared_ptr<EventSink> Wait() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kOpTimeout, [this] { return sink_ != nullptr; });
    return sink_;
  }

  // Drops the slot's reference (the test may hold its own).
  void Release() {
    const std::lock_guard lock(mu_);
    sink_.reset();
  }

  int calls() {
    const std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<EventSink> sink_;
  int calls_ = 0;
};

// Polls `condition` until it holds or kOpTimeout passes (for state another thread changes).
bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kOpTimeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST_F(ServerTest, StreamedResponseDeliversEventsSentFromAnotherThread) {
  SinkSlot slot;
  router_.Add("GET", "/events", slot.EventStream());
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.Send(Get("/events")));
  const auto head = client.ReadStreamHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->result_int(), 200u);
  EXPECT_EQ((*head)[bhttp::field::content_type], "text/event-stream");
  EXPECT_EQ((*head)[bhttp::field::cache_control], "no-store");
  EXPECT_EQ((*head)[bhttp::field::transfer_encoding], "chunked");
  EXPECT_EQ(head->count(bhttp::field::content_length), 0u);
  EXPECT_EQ((*head)[bhttp::field::connection], "close");

  std::shared_ptr<EventSink> sink = slot.Wait();
  ASSERT_NE(sink, nullptr);
  slot.Release();
  EXPECT_TRUE(sink->open());
  std::thread producer([&sink] {
    for (int i = 1; i <= 50; ++i) EXPECT_TRUE(sink->Send("data: " + std::to_string(i) + "\n\n"));
    EXPECT_TRUE(sink->Send(""));  // Ignored: it must not end the chunked body.
  });
  producer.join();
  std::string expected;
  for (int i = 1; i <= 50; ++i) expected += "data: " + std::to_string(i) + "\n\n";
  ASSERT_TRUE(client.ReadStreamUntil("data: 50\n\n"));
  EXPECT_EQ(client.stream_body(), expected);  // Every event, in order, nothing else.

  // Releasing the sink ends the body (last chunk) and the connection.
  sink.reset();
  EXPECT_TRUE(client.ReadStreamToEnd());
  EXPECT_EQ(client.stream_body(), expected);
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST_F(ServerTest, HeadOfAStreamedResponseGetsTheHeadOnly) {
  SinkSlot slot;
  router_.Add("GET", "/events", slot.EventStream());
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  const auto head = client.RoundTrip("HEAD /events HTTP/1.1\r\nHost: t\r\n\r\n", /*head=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ((*head)[bhttp::field::content_type], "text/event-stream");
  EXPECT_TRUE(client.ClosedByPeer());
  EXPECT_EQ(slot.calls(), 0);
}

TEST_F(ServerTest, ClientDisconnectClosesTheSink) {
  SinkSlot slot;
  router_.Add("GET", "/events", slot.EventStream());
  RunningServer server(router_, TestOptions());
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.Send(Get("/events")));
  ASSERT_TRUE(client.ReadStreamHead().has_value());
  const std::shared_ptr<EventSink> sink = slot.Wait();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Send("data: hello\n\n"));
  ASSERT_TRUE(client.ReadStreamUntil("data: hello\n\n"));
  EXPECT_TRUE(sink->open());

  client.stream().close();
  // Noticed through the pending read, without the producer having to send anything.
  EXPECT_TRUE(Eventually([&] { return !sink->open(); }));
  EXPECT_FALSE(sink->Send("data: too late\n\n"));
}

TEST_F(ServerTest, ShutdownEndsAnOpenStreamPromptly) {
  SinkSlot slot;
  router_.Add("GET", "/events", slot.EventStream());
  ServerOptions options = TestOptions();
  options.shutdown_grace_ms = 30'000;  // A stream must not be what shutdown waits for.
  RunningServer server(router_, options);
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.Send(Get("/events")));
  ASSERT_TRUE(client.ReadStreamHead().has_value());
  const std::shared_ptr<EventSink> sink = slot.Wait();  // The producer never lets go.
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Send("data: before\n\n"));

  const auto start = std::chrono::steady_clock::now();
  server.server().Stop();
  EXPECT_TRUE(client.ReadStreamToEnd());  // The body ends properly, with what was queued.
  EXPECT_EQ(client.stream_body(), "data: before\n\n");
  EXPECT_FALSE(sink->open());
  EXPECT_FALSE(sink->Send("data: after\n\n"));
  EXPECT_TRUE(client.ClosedByPeer());
  client.stream().close();
  EXPECT_TRUE(server.RunReturned(2s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(ServerTest, StreamSendsHeartbeatsAndOutlivesTheReadAndIdleTimeouts) {
  SinkSlot slot;
  router_.Add("GET", "/events", slot.EventStream());
  ServerOptions options = TestOptions();
  options.stream_heartbeat_ms = 30;
  options.read_timeout_ms = 100;
  options.idle_timeout_ms = 100;
  RunningServer server(router_, options);
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.Send(Get("/events")));
  ASSERT_TRUE(client.ReadStreamHead().has_value());
  const std::shared_ptr<EventSink> sink = slot.Wait();
  ASSERT_NE(sink, nullptr);
  // Ten heartbeats take at least 300 ms: three read/idle timeouts would have passed.
  std::string ten_pings;
  for (int i = 0; i < 10; ++i) ten_pings += ": ping\n\n";
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.ReadStreamUntil(ten_pings));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  EXPECT_TRUE(sink->open());
  ASSERT_TRUE(sink->Send("data: still here\n\n"));
  EXPECT_TRUE(client.ReadStreamUntil("data: still here\n\n"));
}

TEST_F(ServerTest, StreamClientThatDoesNotReadIsDropped) {
  SinkSlot slot;
  router_.Add("GET", "/events", slot.EventStream());
  ServerOptions options = TestOptions();
  options.max_stream_queue_bytes = std::size_t{64} << 10;
  RunningServer server(router_, options);
  Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.Send(Get("/events")));
  ASSERT_TRUE(client.ReadStreamHead().has_value());
  const std::shared_ptr<EventSink> sink = slot.Wait();
  ASSERT_NE(sink, nullptr);
  // The client reads nothing more: once the socket buffers are full, the queue grows to the
  // bound and the stream is dropped.
  const std::string event = "data: " + std::string(1024, 'x') + "\n\n";
  bool refused = false;
  for (int i = 0; i < 256 * 1024 && !refused; ++i) refused = !sink->Send(event);
  EXPECT_TRUE(refused);
  EXPECT_FALSE(sink->open());
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST_F(ServerTest, StreamsCountAgainstMaxConnections) {
  SinkSlot slot;
  router_.Add("GET", "/events", slot.EventStream());
  ServerOptions options = TestOptions();
  options.max_connections = 1;
  RunningServer server(router_, options);
  // RunningServer's readiness probe holds the one slot until the server sees it close.
  std::optional<Client> client;
  bool streaming = false;
  for (int attempt = 0; attempt < 50 && !streaming; ++attempt) {
    client.emplace();
    streaming = client->Connect(server.port()) && client->Send(Get("/events")) &&
                client->ReadStreamHead().has_value();
    if (!streaming) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(streaming);
  ASSERT_NE(slot.Wait(), nullptr);
  Client second;
  ASSERT_TRUE(second.Connect(server.port()));  // The kernel accepts; the server closes.
  EXPECT_TRUE(second.ClosedByPeer());
}

TEST_F(ServerTest, EveryRunsOffTheIoThreadWithoutOverlapping) {
  ServerOptions options = TestOptions();
  options.threads = 1;  // The I/O thread is Run's caller.
  RunningServer server(router_, options);
  std::mutex mu;
  std::vector<std::thread::id> ids;
  std::atomic<int> running{0};
  std::atomic<bool> overlapped{false};
  std::promise<void> three;
  server.server().Every(1ms, [&] {
    if (running.fetch_add(1) != 0) overlapped = true;
    std::this_thread::sleep_for(5ms);  // Longer than the interval.
    running.fetch_sub(1);
    const std::lock_guard lock(mu);
    ids.push_back(std::this_thread::get_id());
    if (ids.size() == 3) three.set_value();
  });
  ASSERT_EQ(three.get_future().wait_for(kOpTimeout), std::future_status::ready);
  const std::lock_guard lock(mu);
  for (const std::thread::id id : ids) EXPECT_NE(id, server.run_thread_id());
  EXPECT_FALSE(overlapped.load());
}

TEST(ServerListenTest, ReportsUnusableAddresses) {
  Router router;
  ServerOptions options = TestOptions();
  Server first(options, router);
  ASSERT_TRUE(first.Listen().has_value());
  ASSERT_NE(first.port(), 0);

  options.port = first.port();
  Server second(options, router);
  const Result<void> busy = second.Listen();
  ASSERT_FALSE(busy.has_value());
  EXPECT_EQ(busy.error().code, ErrorCode::kServiceUnavailable);
  EXPECT_NE(busy.error().detail.find("bind"), std::string::npos);

  options.host = "not a host";
  options.port = 0;
  Server third(options, router);
  const Result<void> bad = third.Listen();
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kServiceUnavailable);
}

TEST(ServerListenTest, LocalhostAndIpv6Literals) {
  Router router;
  router.Add("GET", "/", Text("root"));
  for (const char* host : {"localhost", "[::1]", "::1"}) {
    ServerOptions options = TestOptions();
    options.host = host;
    Server server(options, router);
    const Result<void> listening = server.Listen();
    if (!listening.has_value() && std::string_view(host).find(':') != std::string_view::npos) {
      continue;  // No IPv6 loopback in this environment.
    }
    ASSERT_TRUE(listening.has_value()) << host << ": " << listening.error().detail;
    EXPECT_NE(server.port(), 0) << host;
  }
}

TEST(ServerRunTest, SigtermStopsRunWhenHandlingSignals) {
  Router router;
  Server server(TestOptions(), router);
  ASSERT_TRUE(server.Listen().has_value());
  std::promise<void> started;
  server.Every(1ms, [&started, once = std::make_shared<std::once_flag>()] {
    std::call_once(*once, [&started] { started.set_value(); });
  });
  auto done = std::async(std::launch::async, [&] { server.Run(/*handle_signals=*/true); });
  // Once the loop runs, the signal set is installed (Run sets it up before running).
  ASSERT_EQ(started.get_future().wait_for(kOpTimeout), std::future_status::ready);
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_EQ(done.wait_for(kOpTimeout), std::future_status::ready);
}

TEST(ServerRunTest, StopBeforeRunReturnsPromptly) {
  Router router;
  Server server(TestOptions(), router);
  ASSERT_TRUE(server.Listen().has_value());
  server.Stop();
  server.Stop();  // Idempotent.
  auto done = std::async(std::launch::async, [&] { server.Run(false); });
  EXPECT_EQ(done.wait_for(kOpTimeout), std::future_status::ready);
}

}  // namespace
}  // namespace sessiond::http
