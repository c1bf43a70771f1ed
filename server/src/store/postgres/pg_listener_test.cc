// PgListener against a real PostgreSQL: notifications are delivered (NOTIFY from another
// session, and the one PostgresStore::AddRevocations sends at commit), a rolled-back NOTIFY is
// not, a terminated listener backend is reported lost and replaced at once, an unreachable server
// is retried without ever reporting "listening", and Stop is prompt in every state.
//
// Needs SESSIOND_TEST_POSTGRES_URL (CTest runs this binary through scripts/with-postgres.sh,
// which starts a throwaway PostgreSQL). Without it every test fails — they never skip.
#include "store/postgres/pg_listener.h"

#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "store/postgres/postgres_store.h"

namespace sessiond::store {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kWait{10'000};  // Bound on any wait for an event that must happen.

const bool kQuietLogs = [] {
  spdlog::set_level(spdlog::level::warn);
  return true;
}();

std::string Url() {
  const char* url = std::getenv("SESSIOND_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') {
    ADD_FAILURE() << "SESSIOND_TEST_POSTGRES_URL is not set: run this test through CTest or "
                     "scripts/with-postgres.sh run -- <this binary>";
    return "";
  }
  return url;
}

// Runs `sql` on a fresh blocking connection; fails the test on error.
std::string Exec(const std::string& sql) {
  PGconn* conn = PQconnectdb(Url().c_str());
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);  // "does not exist, skipping"
  std::string value;
  if (PQstatus(conn) != CONNECTION_OK) {
    ADD_FAILURE() << "connect: " << PQerrorMessage(conn);
  } else {
    PGresult* result = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      ADD_FAILURE() << sql << ": " << PQresultErrorMessage(result);
    } else if (status == PGRES_TUPLES_OK && PQntuples(result) > 0) {
      value = PQgetvalue(result, 0, 0);
    }
    PQclear(result);
  }
  PQfinish(conn);
  return value;
}

// Polls `condition` every 5 ms until it holds or kWait passes.
template <class F>
bool Eventually(F condition) {
  const auto deadline = steady_clock::now() + kWait;
  while (!condition()) {
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// Records what the listener reports and lets the test wait for it (no sleeping).
class Recorder {
 public:
  PgListener::NotifyCallback OnNotify() {
    return [this](const std::vector<std::string>& payloads) {
      std::lock_guard lock(mu_);
      notifications_ += static_cast<int>(payloads.size());
      payloads_.insert(payloads_.end(), payloads.begin(), payloads.end());
      cv_.notify_all();
    };
  }
  PgListener::StateCallback OnState() {
    return [this](bool listening) {
      std::lock_guard lock(mu_);
      states_.push_back(listening);
      cv_.notify_all();
    };
  }
  bool WaitNotifications(int at_least) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return notifications_ >= at_least; });
  }
  bool WaitStates(std::size_t count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return states_.size() >= count; });
  }
  int notifications() {
    std::lock_guard lock(mu_);
    return notifications_;
  }
  std::vector<bool> states() {
    std::lock_guard lock(mu_);
    return states_;
  }
  std::vector<std::string> payloads() {
    std::lock_guard lock(mu_);
    return payloads_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int notifications_ = 0;
  std::vector<bool> states_;
  std::vector<std::string> payloads_;
};

PgListenerOptions Options(std::string url) {
  return {.url = std::move(url),
          .channel = kRevocationChannel,
          .connect_timeout = milliseconds(2000),
          .statement_timeout = milliseconds(2000),
          .check_interval = milliseconds(200),
          .min_backoff = milliseconds(20),
          .max_backoff = milliseconds(200)};
}

TEST(RevocationNoticeTest, RoundTripsAndFallsBackToTheFeed) {
  const std::string ids[] = {"Vf3zYfEt0a", "b4yTM4a4MS2n"};
  const TimePoint at = FromUnixMillis(1795448293123);
  const std::string sql = RevocationNotifySql(ids, at);
  EXPECT_EQ(sql, "NOTIFY sessiond_revocations, '1795448293123:Vf3zYfEt0a,b4yTM4a4MS2n'");
  const auto notice = ParseRevocationNotice("1795448293123:Vf3zYfEt0a,b4yTM4a4MS2n");
  ASSERT_TRUE(notice.has_value());
  EXPECT_EQ(notice->at, at);
  EXPECT_EQ(notice->session_ids, (std::vector<std::string>{"Vf3zYfEt0a", "b4yTM4a4MS2n"}));

  // Ids that could break out of the SQL literal, or too many to fit 8000 bytes: no ids at all
  // (listeners read the feed instead), never a partial or unsafe list.
  const std::string unsafe[] = {"ok", "x'); DROP TABLE session; --"};
  EXPECT_EQ(RevocationNotifySql(unsafe, at), "NOTIFY sessiond_revocations, ''");
  std::vector<std::string> many(300, std::string(32, 'a'));
  EXPECT_EQ(RevocationNotifySql(many, at), "NOTIFY sessiond_revocations, ''");
  many.resize(200);
  const std::string fits = RevocationNotifySql(many, at);
  const std::size_t quote = fits.find('\'');
  const std::string payload = fits.substr(quote + 1, fits.size() - quote - 2);
  EXPECT_LT(payload.size(), 8000u);
  const auto parsed = ParseRevocationNotice(payload);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->session_ids.size(), 200u);

  for (const char* bad : {"", ":", "12:", "x:abc", "-1:abc", "12:a,,b", "12:a b", "12"}) {
    EXPECT_FALSE(ParseRevocationNotice(bad).has_value()) << bad;
  }
}

TEST(PgListenerTest, DeliversCommittedNotificationsOnly) {
  Recorder rec;
  PgListener listener(Options(Url()), rec.OnNotify(), rec.OnState());
  listener.Start();
  ASSERT_TRUE(rec.WaitStates(1));
  EXPECT_EQ(rec.states(), std::vector<bool>{true});
  EXPECT_TRUE(listener.listening());
  EXPECT_NE(listener.backend_pid(), 0);
  // The session is findable by name (docs/deployment.md).
  const int pid = listener.backend_pid();
  const std::string where = " FROM pg_stat_activity WHERE pid = " + std::to_string(pid);
  EXPECT_EQ(Exec("SELECT application_name" + where), "sessiond-revocations");

  // A rolled-back NOTIFY is never delivered; the committed one after it is, and on the one
  // connection they arrive in order, so one notification seen means the first was dropped.
  Exec("BEGIN; NOTIFY sessiond_revocations, 'rolled back'; ROLLBACK");
  Exec("NOTIFY sessiond_revocations, 'committed'");
  ASSERT_TRUE(rec.WaitNotifications(1));
  Exec("NOTIFY other_channel");  // Not ours.
  Exec("NOTIFY sessiond_revocations, 'second'");
  ASSERT_TRUE(rec.WaitNotifications(2));
  EXPECT_EQ(rec.notifications(), 2);
  EXPECT_EQ(rec.payloads(), (std::vector<std::string>{"committed", "second"}));

  // The periodic liveness check (every 200 ms here) runs on the same session — its LISTEN
  // becomes the session's last query — and the session keeps listening.
  EXPECT_TRUE(
      Eventually([&] { return Exec("SELECT query" + where) == "LISTEN sessiond_revocations"; }));
  Exec("NOTIFY sessiond_revocations");
  ASSERT_TRUE(rec.WaitNotifications(3));
  EXPECT_EQ(listener.backend_pid(), pid);
  EXPECT_EQ(listener.connects(), 1u);
  EXPECT_EQ(rec.states(), std::vector<bool>{true});

  const auto before = steady_clock::now();
  listener.Stop();
  EXPECT_LT(steady_clock::now() - before, milliseconds(1000));
  EXPECT_FALSE(listener.listening());
  EXPECT_EQ(rec.states(), std::vector<bool>{true}) << "Stop is not a loss";
}

TEST(PgListenerTest, AddRevocationsNotifiesAtCommit) {
  // A fresh schema, as postgres_store_test does, so the store's tables are its own.
  const std::string schema = "listener_" + std::to_string(getpid());
  Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema);
  const std::string url = Url() + "?options=-csearch_path%3D" + schema;
  auto store = PostgresStore::Open({.url = url, .pool_size = 2});
  ASSERT_TRUE(store.has_value()) << store.error().detail;
  ASSERT_TRUE((*store)->Migrate().has_value());

  Recorder rec;
  PgListener listener(Options(url), rec.OnNotify(), rec.OnState());
  listener.Start();
  ASSERT_TRUE(rec.WaitStates(1));
  const std::string ids[] = {"session-a", "session-b"};
  const auto sent = steady_clock::now();
  ASSERT_TRUE((*store)->AddRevocations(ids, FromUnixMillis(1795428000000)).has_value());
  ASSERT_TRUE(rec.WaitNotifications(1));
  const auto latency =
      std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - sent);
  // The notice names the sessions and the time, so a replica can refuse them before it reads.
  ASSERT_EQ(rec.payloads().size(), 1u);
  const auto notice = ParseRevocationNotice(rec.payloads()[0]);
  ASSERT_TRUE(notice.has_value()) << rec.payloads()[0];
  EXPECT_EQ(notice->session_ids, (std::vector<std::string>{"session-a", "session-b"}));
  EXPECT_EQ(notice->at, FromUnixMillis(1795428000000));
  std::printf("[ figure ] AddRevocations called -> notification seen: %lld us (incl. commit)\n",
              static_cast<long long>(latency.count()));
  // What woke the listener is readable: the feed has both.
  auto feed = (*store)->ListRevocations(0, 10);
  ASSERT_TRUE(feed.has_value());
  EXPECT_EQ(feed->size(), 2u);
  listener.Stop();
  store->reset();
  Exec("DROP SCHEMA " + schema + " CASCADE");
}

TEST(PgListenerTest, TerminatedBackendIsReportedAndReplacedAtOnce) {
  Recorder rec;
  PgListener listener(Options(Url()), rec.OnNotify(), rec.OnState());
  listener.Start();
  ASSERT_TRUE(rec.WaitStates(1));
  const int first_pid = listener.backend_pid();
  const auto killed = steady_clock::now();
  EXPECT_EQ(Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE application_name = 'sessiond-revocations'"),
            "t");
  ASSERT_TRUE(rec.WaitStates(3));
  const auto back = std::chrono::duration_cast<milliseconds>(steady_clock::now() - killed);
  std::printf("[ figure ] listener backend terminated -> listening again: %lld ms\n",
              static_cast<long long>(back.count()));
  EXPECT_EQ(rec.states(), (std::vector<bool>{true, false, true}));
  EXPECT_NE(listener.backend_pid(), first_pid);
  EXPECT_EQ(listener.connects(), 2u);
  // And it works again.
  Exec("NOTIFY sessiond_revocations");
  ASSERT_TRUE(rec.WaitNotifications(1));
  listener.Stop();
}

TEST(PgListenerTest, UnreachableServerIsRetriedAndStopIsPrompt) {
  // A port nothing listens on: bound, then released.
  int port = 0;
  {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port = ntohs(addr.sin_port);
    close(fd);
  }
  Recorder rec;
  PgListener listener(
      Options("postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/postgres"),
      rec.OnNotify(), rec.OnState());
  listener.Start();
  // Attempts go on (20, 40, ... 200 ms apart); none succeeds or reports anything.
  EXPECT_TRUE(Eventually([&] { return listener.attempts() >= 3; }));
  EXPECT_FALSE(listener.listening());
  EXPECT_EQ(listener.connects(), 0u);
  const auto before = steady_clock::now();
  listener.Stop();
  EXPECT_LT(steady_clock::now() - before, milliseconds(1000));
  EXPECT_TRUE(rec.states().empty());
}

}  // namespace
}  // namespace sessiond::store
