// FakeAuthServer: an in-process stand-in for sessiond's JWKS and revocation feed, for
// verifier_test (test-only). Beast on 127.0.0.1, port 0, one io thread (C++20 coroutines).
//
// It follows the feed's wire contract (docs/tokens.md, "Verifying tokens in a C++ backend"):
//  * GET /api/auth/jwks → the JWKS the test set.
//  * GET /api/auth/revocations[?since=<cursor>] → 200 {"revocations":[{"sid","revokedAt"}],
//    "cursor","hasMore"}, oldest first, at most page_size per page, hasMore when the page is
//    full (as routes/revocation_routes.cc); an unknown cursor → 400 JSON error.
//  * The same path with Accept: text/event-stream → 200 "text/event-stream; charset=utf-8",
//    chunked, "retry: 1000", then one "id: <cursor>\nevent: revocation\ndata: {...}\n\n" per
//    revocation after `since` (query) or Last-Event-ID (neither: all retained); kept open;
//    ": ping" when the test says so.
// Cursors are "c/<epoch>/<count>" (a '/' so query encoding is exercised); ForgetCursors()
// starts a new epoch, as a server that lost its cursor space would, so old cursors get 400.
// Controls let a test drop streams, take the feed down (503) and count requests.
// FakeAuthServer(/*tls=*/true) serves https with a fresh self-signed P-256 certificate for
// IP 127.0.0.1; ca_file() is that certificate, for VerifierOptions::tls_ca_file.
#pragma once

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <unistd.h>
#include <vector>

namespace sessiond::verifier::testutil {

class FakeAuthServer {
 public:
  explicit FakeAuthServer(bool tls = false) {
    if (tls) StartTls();
    acceptor_.open(tcp::v4());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    boost::asio::co_spawn(ioc_, Accept(), boost::asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  FakeAuthServer(const FakeAuthServer&) = delete;
  FakeAuthServer& operator=(const FakeAuthServer&) = delete;
  ~FakeAuthServer() {
    ioc_.stop();
    thread_.join();
    if (!ca_file_.empty()) {
      std::error_code ec;
      std::filesystem::remove(ca_file_, ec);
    }
  }

  [[nodiscard]] std::string base_url() const {
    return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_);
  }
  // https: a PEM file holding the server's self-signed certificate.
  [[nodiscard]] const std::string& ca_file() const { return ca_file_; }

  void SetJwks(std::string body) {
    std::lock_guard lock(mu_);
    jwks_ = std::move(body);
  }
  void SetPageSize(std::size_t n) {
    std::lock_guard lock(mu_);
    page_size_ = n;
  }

  // Appends a revocation and pushes it to every open stream.
  void Revoke(std::string sid, std::int64_t revoked_at) {
    RunOnIo([&] {
      AppendLocked(std::move(sid), revoked_at);
      WakeStreams();
    });
  }
  // Closes every open stream (abruptly, mid-chunked-body); then, in the same io turn so no
  // closed stream can carry it, appends `then_revoke` if given.
  void DropStreams(std::optional<std::pair<std::string, std::int64_t>> then_revoke = {}) {
    RunOnIo([&] {
      CloseStreams();
      if (then_revoke) AppendLocked(std::move(then_revoke->first), then_revoke->second);
    });
  }
  // Down: every revocations request gets 503 and open streams are closed.
  void SetFeedDown(bool down) {
    RunOnIo([&] {
      {
        std::lock_guard lock(mu_);
        feed_down_ = down;
      }
      if (down) CloseStreams();
    });
  }
  // New cursor epoch: every cursor handed out so far is refused (400); streams are closed;
  // then `then_revoke` is appended, as in DropStreams.
  void ForgetCursors(std::optional<std::pair<std::string, std::int64_t>> then_revoke = {}) {
    RunOnIo([&] {
      {
        std::lock_guard lock(mu_);
        ++epoch_;
      }
      CloseStreams();
      if (then_revoke) AppendLocked(std::move(then_revoke->first), then_revoke->second);
    });
  }
  // ": ping" on every open stream.
  void Ping() {
    RunOnIo([&] {
      for (const auto& stream : streams_) stream->ping = true;
      WakeStreams();
    });
  }

  [[nodiscard]] std::string Cursor(std::size_t count) const {
    std::lock_guard lock(mu_);
    return CursorLocked(count);
  }
  [[nodiscard]] int jwks_requests() const {
    std::lock_guard lock(mu_);
    return jwks_requests_;
  }
  [[nodiscard]] int page_requests() const {
    std::lock_guard lock(mu_);
    return page_requests_;
  }
  // Last-Event-ID of each stream request, in order ("" when absent).
  [[nodiscard]] std::vector<std::string> stream_last_event_ids() const {
    std::lock_guard lock(mu_);
    return stream_last_event_ids_;
  }
  [[nodiscard]] std::size_t open_streams() {
    std::size_t n = 0;
    RunOnIo([&] { n = streams_.size(); });
    return n;
  }

 private:
  using tcp = boost::asio::ip::tcp;
  struct Revocation {
    std::string sid;
    std::int64_t revoked_at;
  };
  struct OpenStream {
    std::function<void()> close;  // Closes the connection under the stream.
    boost::asio::steady_timer wake;
    bool closed = false;
    bool ping = false;
  };

  template <class F>
  void RunOnIo(F&& f) {
    std::promise<void> done;
    boost::asio::post(ioc_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  void AppendLocked(std::string sid, std::int64_t revoked_at) {
    std::lock_guard lock(mu_);
    revocations_.push_back({std::move(sid), revoked_at});
  }
  // Io thread only.
  void WakeStreams() {
    for (const auto& stream : streams_) stream->wake.cancel();
  }
  void CloseStreams() {
    for (const auto& stream : streams_) {
      stream->closed = true;
      stream->close();
      stream->wake.cancel();
    }
    streams_.clear();
  }

  std::string CursorLocked(std::size_t count) const {
    return "c/" + std::to_string(epoch_) + "/" + std::to_string(count);
  }
  // The count a cursor of this epoch stands for, or nullopt.
  std::optional<std::size_t> ParseCursorLocked(std::string_view cursor) const {
    const std::string prefix = "c/" + std::to_string(epoch_) + "/";
    if (!cursor.starts_with(prefix)) return std::nullopt;
    cursor.remove_prefix(prefix.size());
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), n);
    if (ec != std::errc() || end != cursor.data() + cursor.size() || n > revocations_.size()) {
      return std::nullopt;
    }
    return n;
  }
  static std::string PercentDecode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        unsigned v = 0;
        std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
        out += static_cast<char>(v);
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }
  static std::string Chunk(std::string_view text) {
    char size[32];
    const auto [end, ec] = std::to_chars(size, size + sizeof size, text.size(), 16);
    (void)ec;
    return std::string(size, end) + "\r\n" + std::string(text) + "\r\n";
  }
  std::string EventLocked(std::size_t index) const {
    boost::json::object data;
    data["sid"] = revocations_[index].sid;
    data["revokedAt"] = revocations_[index].revoked_at;
    return "id: " + CursorLocked(index + 1) +
           "\nevent: revocation\ndata: " + boost::json::serialize(data) + "\n\n";
  }

  boost::asio::awaitable<void> Accept() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor_.async_accept(
          boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec) co_return;
      if (tls_) {
        boost::asio::co_spawn(ioc_, TlsSession(std::move(socket)), boost::asio::detached);
      } else {
        boost::asio::co_spawn(ioc_, PlainSession(std::move(socket)), boost::asio::detached);
      }
    }
  }

  boost::asio::awaitable<void> PlainSession(tcp::socket socket) {
    boost::beast::tcp_stream stream(std::move(socket));
    co_await Serve(stream);
  }

  boost::asio::awaitable<void> TlsSession(tcp::socket socket) {
    boost::beast::ssl_stream<boost::beast::tcp_stream> stream(
        boost::beast::tcp_stream(std::move(socket)), *tls_);
    boost::system::error_code ec;
    co_await stream.async_handshake(boost::asio::ssl::stream_base::server,
                                    boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (ec) co_return;
    co_await Serve(stream);
  }

  template <class Stream>
  boost::asio::awaitable<void> Serve(Stream& stream) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (;;) {
      boost::system::error_code ec;
      http::request<http::string_body> request;
      co_await http::async_read(stream, buffer, request,
                                boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec) co_return;
      const std::string_view target = request.target();
      const std::string_view path = target.substr(0, target.find('?'));
      std::optional<std::string> since;
      if (const std::size_t q = target.find("?since="); q != std::string_view::npos) {
        since = PercentDecode(target.substr(q + 7));
      }
      http::response<http::string_body> response{http::status::ok, request.version()};
      response.keep_alive(request.keep_alive());
      response.set(http::field::content_type, "application/json");
      if (path == "/api/auth/jwks") {
        std::lock_guard lock(mu_);
        ++jwks_requests_;
        response.set(http::field::cache_control, "public, max-age=300");
        response.body() = jwks_;
      } else if (path == "/api/auth/revocations") {
        const bool wants_stream =
            request[http::field::accept].find("text/event-stream") != std::string_view::npos;
        std::optional<std::size_t> start;
        bool down = false;
        {
          std::lock_guard lock(mu_);
          down = feed_down_;
          if (wants_stream) {
            stream_last_event_ids_.emplace_back(request["Last-Event-ID"]);
            if (!since && !request["Last-Event-ID"].empty()) {
              since = std::string(request["Last-Event-ID"]);
            }
            start = since ? ParseCursorLocked(*since) : 0;
          } else {
            ++page_requests_;
            start = since ? ParseCursorLocked(*since) : 0;
          }
          if (!down && start && !wants_stream) {
            boost::json::array list;
            const std::size_t end = std::min(revocations_.size(), *start + page_size_);
            for (std::size_t i = *start; i < end; ++i) {
              list.push_back(boost::json::object{{"sid", revocations_[i].sid},
                                                 {"revokedAt", revocations_[i].revoked_at}});
            }
            response.body() = boost::json::serialize(
                boost::json::object{{"revocations", std::move(list)},
                                    {"cursor", CursorLocked(end)},
                                    {"hasMore", end - *start == page_size_}});
          }
        }
        if (down) {
          response.result(http::status::service_unavailable);
          response.body() = R"({"code":"SERVICE_UNAVAILABLE","message":"down"})";
        } else if (!start) {
          response.result(http::status::bad_request);
          response.body() = R"({"code":"INVALID_CURSOR","message":"Unknown cursor"})";
        } else if (wants_stream) {
          co_await EventStream(stream, *start);
          co_return;
        }
      } else {
        response.result(http::status::not_found);
        response.body() = R"({"code":"NOT_FOUND","message":"Not found"})";
      }
      response.prepare_payload();
      co_await http::async_write(stream, response,
                                 boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec || !response.keep_alive()) co_return;
    }
  }

  template <class Stream>
  boost::asio::awaitable<void> EventStream(Stream& stream, std::size_t next) {
    const auto close = [&stream] {
      boost::system::error_code ec;
      auto& socket = boost::beast::get_lowest_layer(stream).socket();
      socket.shutdown(tcp::socket::shutdown_both, ec);
      socket.close(ec);
    };
    auto open = std::make_shared<OpenStream>(
        OpenStream{close, boost::asio::steady_timer(co_await boost::asio::this_coro::executor)});
    streams_.push_back(open);
    std::string out =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
        "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\n\r\n" +
        Chunk("retry: 1000\n\n");
    for (;;) {
      if (!out.empty()) {
        boost::system::error_code ec;
        co_await boost::asio::async_write(
            stream, boost::asio::buffer(out),
            boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec) break;
      }
      if (open->closed) break;
      std::string text;
      {
        std::lock_guard lock(mu_);
        for (; next < revocations_.size(); ++next) text += EventLocked(next);
      }
      if (open->ping) {
        text += ": ping\n\n";
        open->ping = false;
      }
      out = text.empty() ? std::string() : Chunk(text);
      if (!out.empty()) continue;
      boost::system::error_code ec;
      open->wake.expires_at(boost::asio::steady_timer::time_point::max());
      co_await open->wake.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (open->closed) break;
    }
    std::erase(streams_, open);
  }

  // A self-signed P-256 certificate for IP 127.0.0.1 (subjectAltName, RFC 6125 §6.2.1), its
  // own CA; the server context uses it and ca_file_ holds it for the client.
  void StartTls() {
    EVP_PKEY_CTX* kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr);
    EVP_PKEY* pkey = nullptr;
    ASSERT_TRUE(kctx != nullptr && EVP_PKEY_keygen_init(kctx) == 1 &&
                EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx, NID_X9_62_prime256v1) == 1 &&
                EVP_PKEY_keygen(kctx, &pkey) == 1);
    EVP_PKEY_CTX_free(kctx);
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, pkey);
    X509_NAME* name = X509_get_subject_name(cert);
    static constexpr unsigned char kCn[] = "127.0.0.1";
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, kCn, -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
    for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                                     std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
      ASSERT_NE(ext, nullptr);
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
    ASSERT_GT(X509_sign(cert, pkey, EVP_sha256()), 0);
    const auto pem = [](auto write) {
      BIO* bio = BIO_new(BIO_s_mem());
      write(bio);
      char* data = nullptr;
      const long size = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);  // BIO_get_mem_data
      std::string out(data, static_cast<std::size_t>(size));
      BIO_free(bio);
      return out;
    };
    const std::string cert_pem = pem([&](BIO* bio) { PEM_write_bio_X509(bio, cert); });
    const std::string key_pem = pem([&](BIO* bio) {
      PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    });
    X509_free(cert);
    EVP_PKEY_free(pkey);

    tls_.emplace(boost::asio::ssl::context::tls_server);
    tls_->use_certificate(boost::asio::buffer(cert_pem), boost::asio::ssl::context::pem);
    tls_->use_private_key(boost::asio::buffer(key_pem), boost::asio::ssl::context::pem);
    static std::atomic<int> files{0};
    ca_file_ = (std::filesystem::temp_directory_path() /
                ("verifier-test-ca-" + std::to_string(::getpid()) + "-" + std::to_string(files++) +
                 ".pem"))
                   .string();
    std::ofstream(ca_file_) << cert_pem;
  }

  std::optional<boost::asio::ssl::context> tls_;
  std::string ca_file_;
  boost::asio::io_context ioc_{1};
  tcp::acceptor acceptor_{ioc_};
  unsigned short port_ = 0;
  std::thread thread_;

  mutable std::mutex mu_;
  std::string jwks_ = R"({"keys":[]})";               // Guarded by mu_.
  std::vector<Revocation> revocations_;               // Guarded by mu_.
  std::size_t page_size_ = 500;                       // Guarded by mu_.
  std::uint64_t epoch_ = 0;                           // Guarded by mu_.
  bool feed_down_ = false;                            // Guarded by mu_.
  int jwks_requests_ = 0;                             // Guarded by mu_.
  int page_requests_ = 0;                             // Guarded by mu_.
  std::vector<std::string> stream_last_event_ids_;    // Guarded by mu_.
  std::vector<std::shared_ptr<OpenStream>> streams_;  // Io thread only.
};

}  // namespace sessiond::verifier::testutil
