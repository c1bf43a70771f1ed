// The verifier against FakeAuthServer (verifier_test_server.h), an in-process JWKS and
// revocation feed that follows sessiond's wire contract. Tokens are minted with the project's
// jwt library. Logical time (exp, rate limits, feed health) is a FakeClock; waiting for the
// background thread is polling with a deadline, never a sleep that an assertion relies on.
#include "sessiond/verifier.h"

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "crypto/crypto.h"
#include "jwt/algorithm.h"
#include "jwt/claims.h"
#include "jwt/jws.h"
#include "jwt/key.h"
#include "jwt/key_set.h"
#include "jwt/signature.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"
#include "verifier/verifier_test_server.h"

namespace sessiond::verifier {
namespace {

using namespace std::chrono_literals;
using testutil::FakeAuthServer;

constexpr std::string_view kIssuer = "http://127.0.0.1:4100";
const TimePoint kStart = FromUnixMillis(1795431473000);  // 2026-11-23T10:57:53Z

using VerifyResult = std::expected<Claims, VerifyFailure>;

std::optional<VerifyError> Reason(const VerifyResult& result) {
  if (result) return std::nullopt;
  return result.error().error;
}

// Polls `condition` until it holds or `deadline` passes.
template <class F>
bool Eventually(F condition, std::chrono::milliseconds deadline = 5s) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return condition();
}

std::string B64(std::string_view bytes) {
  return crypto::Base64UrlEncode(
      {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init());
    auto keys = jwt::KeySet::Create(jwt::Algorithm::kEdDSA, random_, clock_.Now());
    ASSERT_TRUE(keys.has_value()) << keys.error().detail;
    keys_ = std::move(*keys);
    PublishKeys();
  }

  void PublishKeys() { server_.SetJwks(boost::json::serialize(keys_.Jwks())); }

  VerifierOptions Options() {
    VerifierOptions options;
    options.base_url = server_.base_url();
    options.issuer = kIssuer;
    options.audience = kIssuer;
    options.clock = [this] { return std::chrono::system_clock::time_point(clock_.Now()); };
    options.reconnect_delay = 40ms;
    options.max_reconnect_delay = 200ms;
    options.log = [this](LogLevel, std::string_view message) {
      std::lock_guard lock(log_mu_);
      log_.emplace_back(message);
    };
    return options;
  }

  std::unique_ptr<Verifier> Started(VerifierOptions options, bool wait_ready = true) {
    auto verifier = Verifier::Create(std::move(options));
    EXPECT_TRUE(verifier.has_value()) << verifier.error();
    if (!verifier) return nullptr;
    (*verifier)->Start();
    if (wait_ready) {
      EXPECT_TRUE((*verifier)->WaitUntilReady(5s));
    }
    return std::move(*verifier);
  }

  boost::json::object MakeClaims(std::string sid = "session-1") {
    jwt::ClaimsInput input;
    input.issuer = kIssuer;
    input.audience = kIssuer;
    input.user_id = "user-1";
    input.session_id = std::move(sid);
    input.email = "alice@example.com";
    input.role = "authenticated";
    input.issued_at = clock_.Now();
    input.jti = jwt::NewJwtId(random_);
    return jwt::AccessTokenClaims(input);
  }
  std::string Sign(const boost::json::object& claims, const jwt::Key* key = nullptr) {
    auto token = key != nullptr ? jwt::Sign(*key, claims) : keys_.Sign(claims);
    EXPECT_TRUE(token.has_value());
    return token.value_or("");
  }
  std::string Token(std::string sid = "session-1") { return Sign(MakeClaims(std::move(sid))); }
  // A compact JWS with this header and payload text, validly signed by `key`.
  static std::string Forge(const jwt::Key& key, std::string_view header, std::string_view payload) {
    std::string input = B64(header) + "." + B64(payload);
    auto signature = jwt::SignBytes(key, input);
    EXPECT_TRUE(signature.has_value());
    return input + "." + B64(signature.value_or("x"));
  }
  // Returns once the verifier has read from its event stream (a probe revocation came
  // through), so no line of the stream's start can arrive after the test moves the clock.
  void AwaitStream(const Verifier& verifier) {
    ASSERT_TRUE(Eventually([&] { return server_.open_streams() == 1; }));
    const std::string probe = "probe-" + std::to_string(probes_++);
    server_.Revoke(probe, kStart.time_since_epoch().count() / 1000);
    ASSERT_TRUE(
        Eventually([&] { return Reason(verifier.Verify(Token(probe))) == VerifyError::kRevoked; }));
  }
  jwt::Key NewKey(jwt::Algorithm algorithm) {
    auto key = jwt::Key::Generate(algorithm, random_, clock_.Now());
    EXPECT_TRUE(key.has_value());
    return std::move(*key);
  }

  sessiond::testing::FakeClock clock_{kStart};
  sessiond::testing::FakeRandom random_{42};
  FakeAuthServer server_;
  jwt::KeySet keys_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
  int probes_ = 0;
};

TEST_F(VerifierTest, AcceptsAGoodTokenAndReturnsItsClaims) {
  auto verifier = Started(Options());
  const boost::json::object claims = MakeClaims("session-9");
  const auto result = verifier->Verify(Sign(claims));
  ASSERT_TRUE(result.has_value()) << result.error().detail;
  EXPECT_EQ(result->sub, "user-1");
  EXPECT_EQ(result->sid, "session-9");
  EXPECT_EQ(result->email, "alice@example.com");
  EXPECT_EQ(result->role, "authenticated");
  EXPECT_EQ(result->iss, kIssuer);
  EXPECT_EQ(result->aud, kIssuer);
  EXPECT_EQ(result->jti, claims.at("jti").as_string());
  EXPECT_EQ(result->iat, kStart.time_since_epoch().count() / 1000);
  EXPECT_EQ(result->exp, *result->iat + 900);
  EXPECT_EQ(boost::json::parse(result->raw_json), boost::json::value(claims));

  const VerifierStatus status = verifier->Status();
  EXPECT_TRUE(status.running);
  EXPECT_TRUE(status.keys_loaded);
  EXPECT_EQ(status.keys, 1U);
  EXPECT_TRUE(status.feed_synced);
  EXPECT_EQ(server_.jwks_requests(), 1);
  EXPECT_EQ(server_.page_requests(), 1);
  EXPECT_TRUE(Eventually([&] { return server_.open_streams() == 1; }));
}

TEST_F(VerifierTest, EveryPublishedAsymmetricAlgorithmVerifiesWhenAllowed) {
  const jwt::Key es256 = NewKey(jwt::Algorithm::kES256);
  const jwt::Key rs256 = NewKey(jwt::Algorithm::kRS256);
  boost::json::array jwks{*keys_.Active()->PublicJwk(), *es256.PublicJwk(), *rs256.PublicJwk()};
  server_.SetJwks(boost::json::serialize(boost::json::object{{"keys", jwks}}));
  VerifierOptions options = Options();
  options.algorithms = {"EdDSA", "ES256", "RS256"};
  auto verifier = Started(options);
  for (const jwt::Key* key : {keys_.Active().get(), &es256, &rs256}) {
    const auto result = verifier->Verify(Sign(MakeClaims(), key));
    EXPECT_TRUE(result.has_value())
        << jwt::AlgorithmName(key->algorithm()) << ": " << result.error().detail;
  }
  EXPECT_EQ(verifier->Status().keys, 3U);
}

TEST_F(VerifierTest, RejectsEachClaimAndFormatFailureWithItsOwnReason) {
  const jwt::Key es256 = NewKey(jwt::Algorithm::kES256);
  boost::json::array jwks{*keys_.Active()->PublicJwk(), *es256.PublicJwk()};
  server_.SetJwks(boost::json::serialize(boost::json::object{{"keys", jwks}}));
  VerifierOptions options = Options();
  options.feed_stale_after = 0s;  // Time moves a lot here; only the token is under test.
  auto verifier = Started(options);
  const auto with = [&](std::string_view name, boost::json::value value) {
    boost::json::object claims = MakeClaims();
    claims[name] = std::move(value);
    return Sign(claims);
  };
  const auto without = [&](std::string_view name) {
    boost::json::object claims = MakeClaims();
    claims.erase(name);
    return Sign(claims);
  };
  const std::int64_t now_s = kStart.time_since_epoch().count() / 1000;
  const jwt::Key& active = *keys_.Active();

  EXPECT_EQ(Reason(verifier->Verify(with("iss", "http://evil.example"))),
            VerifyError::kWrongIssuer);
  EXPECT_EQ(Reason(verifier->Verify(without("iss"))), VerifyError::kWrongIssuer);
  EXPECT_EQ(Reason(verifier->Verify(with("aud", "http://other-api"))), VerifyError::kWrongAudience);
  EXPECT_TRUE(
      verifier->Verify(with("aud", boost::json::array{"http://other-api", kIssuer})).has_value());
  EXPECT_EQ(Reason(verifier->Verify(with("nbf", now_s + 60))), VerifyError::kNotYetValid);
  EXPECT_EQ(Reason(verifier->Verify(with("iat", now_s + 60))), VerifyError::kNotYetValid);
  EXPECT_TRUE(verifier->Verify(with("nbf", now_s + 5)).has_value());  // Within the leeway.
  EXPECT_EQ(Reason(verifier->Verify(without("exp"))), VerifyError::kInvalidClaims);
  EXPECT_EQ(Reason(verifier->Verify(with("exp", "tomorrow"))), VerifyError::kInvalidClaims);
  EXPECT_EQ(Reason(verifier->Verify(without("sub"))), VerifyError::kInvalidClaims);
  EXPECT_EQ(Reason(verifier->Verify(without("sid"))), VerifyError::kInvalidClaims);
  EXPECT_EQ(Reason(verifier->Verify(with("sid", ""))), VerifyError::kInvalidClaims);
  EXPECT_EQ(Reason(verifier->Verify(with("sid", 7))), VerifyError::kInvalidClaims);

  // Signature: the payload of one token under the signature of another.
  const std::string good = Token();
  const std::string other = Token("session-2");
  const std::string tampered =
      good.substr(0, good.find('.') + 1) +
      B64(boost::json::serialize(boost::json::object{{"iss", kIssuer},
                                                     {"aud", kIssuer},
                                                     {"sub", "mallory"},
                                                     {"sid", "session-1"},
                                                     {"exp", now_s + 900}})) +
      good.substr(good.rfind('.'));
  EXPECT_EQ(Reason(verifier->Verify(tampered)), VerifyError::kBadSignature);
  EXPECT_EQ(
      Reason(verifier->Verify(good.substr(0, good.rfind('.')) + other.substr(other.rfind('.')))),
      VerifyError::kBadSignature);

  // Format.
  for (const std::string& bad :
       std::vector<std::string>{"", "abc", "a.b", "a.b.c.d", "!!.??.**", good + " "}) {
    EXPECT_EQ(Reason(verifier->Verify(bad)), VerifyError::kMalformed) << bad;
  }
  EXPECT_EQ(Reason(verifier->Verify(std::string(9000, 'a'))), VerifyError::kMalformed);
  const std::string payload = boost::json::serialize(MakeClaims());
  EXPECT_EQ(
      Reason(verifier->Verify(Forge(
          active, R"({"alg":"EdDSA","kid":")" + active.kid() + R"(","crit":["x"]})", payload))),
      VerifyError::kMalformed);

  // Algorithms: none, a shared secret, an allowed-by-nobody ES256 key that is in the JWKS.
  EXPECT_EQ(Reason(verifier->Verify(B64(R"({"alg":"none","kid":")" + active.kid() + "\"}") + "." +
                                    B64(payload) + ".AA")),
            VerifyError::kBadAlgorithm);
  auto hs256 =
      jwt::Key::FromSharedSecret(jwt::Algorithm::kHS256, "a-shared-secret-of-at-least-32-bytes!!",
                                 std::string(active.kid()), clock_.Now());
  ASSERT_TRUE(hs256.has_value());
  EXPECT_EQ(Reason(verifier->Verify(Sign(MakeClaims(), &*hs256))), VerifyError::kBadAlgorithm);
  EXPECT_EQ(Reason(verifier->Verify(Sign(MakeClaims(), &es256))), VerifyError::kBadAlgorithm);
  // The header cannot re-label the EdDSA key as ES256 either (the key's alg decides).
  EXPECT_EQ(Reason(verifier->Verify(
                Forge(active, R"({"alg":"ES256","kid":")" + active.kid() + "\"}", payload))),
            VerifyError::kBadAlgorithm);
  // No kid at all: nothing to refetch for.
  EXPECT_EQ(Reason(verifier->Verify(Forge(active, R"({"alg":"EdDSA"})", payload))),
            VerifyError::kUnknownKey);
  // None of these made the verifier refetch the JWKS.
  EXPECT_EQ(server_.jwks_requests(), 1);

  // Expiry, at the edge of the leeway: exp = iat + 900, leeway 10 s.
  const std::string fresh = Token();
  clock_.Advance(909s);
  EXPECT_TRUE(verifier->Verify(fresh).has_value());
  clock_.Advance(1s);
  EXPECT_EQ(Reason(verifier->Verify(fresh)), VerifyError::kExpired);
}

TEST_F(VerifierTest, SkipsUnusableJwksMembersAndKeepsTheRest) {
  boost::json::object with_private = *keys_.Active()->PublicJwk();
  with_private["kid"] = "has-private-part";
  with_private["d"] = "AAAA";
  boost::json::object oct{{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}, {"alg", "HS256"}};
  boost::json::array jwks{42, with_private, oct, *keys_.Active()->PublicJwk(),
                          *keys_.Active()->PublicJwk()};
  server_.SetJwks(boost::json::serialize(boost::json::object{{"keys", jwks}}));
  auto verifier = Started(Options());
  EXPECT_EQ(verifier->Status().keys, 1U);
  EXPECT_TRUE(verifier->Verify(Token()).has_value());
}

TEST_F(VerifierTest, AnUnknownKidRefetchesOnceAndPicksUpARotatedKey) {
  auto verifier = Started(Options());
  const std::string before = Token();
  ASSERT_TRUE(verifier->Verify(before).has_value());
  ASSERT_EQ(server_.jwks_requests(), 1);

  // sessiond rotates: the new key signs, the old one is retired but still published.
  ASSERT_TRUE(keys_.Rotate(random_, clock_.Now(), 900s).has_value());
  PublishKeys();
  const std::string after = Token();
  const auto result = verifier->Verify(after);  // Waits for the refetch it starts.
  ASSERT_TRUE(result.has_value()) << result.error().detail;
  EXPECT_EQ(server_.jwks_requests(), 2);
  EXPECT_TRUE(verifier->Verify(before).has_value());
  EXPECT_TRUE(verifier->Verify(after).has_value());
  EXPECT_EQ(server_.jwks_requests(), 2);
  EXPECT_EQ(verifier->Status().keys, 2U);
}

TEST_F(VerifierTest, AFloodOfUnknownKidsCostsOneJwksFetchPerInterval) {
  VerifierOptions options = Options();
  options.min_jwks_refetch_interval = 10s;
  auto verifier = Started(options);
  ASSERT_EQ(server_.jwks_requests(), 1);
  const jwt::Key stranger = NewKey(jwt::Algorithm::kEdDSA);  // Never published.

  EXPECT_EQ(Reason(verifier->Verify(Sign(MakeClaims(), &stranger))), VerifyError::kUnknownKey);
  EXPECT_EQ(server_.jwks_requests(), 2);

  // Many threads, many made-up kids, within the interval: no further fetch.
  std::vector<jwt::Key> strangers;
  for (int i = 0; i < 8; ++i) strangers.push_back(NewKey(jwt::Algorithm::kEdDSA));
  std::vector<std::string> tokens;
  for (const jwt::Key& key : strangers) tokens.push_back(Sign(MakeClaims(), &key));
  std::atomic<int> unknown{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (Reason(verifier->Verify(tokens[static_cast<std::size_t>((t + i) % 8)])) ==
            VerifyError::kUnknownKey) {
          ++unknown;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(unknown.load(), 400);
  EXPECT_EQ(server_.jwks_requests(), 2);

  clock_.Advance(9s);
  EXPECT_EQ(Reason(verifier->Verify(tokens[0])), VerifyError::kUnknownKey);
  EXPECT_EQ(server_.jwks_requests(), 2);
  clock_.Advance(1s);  // The interval has passed: the next unknown kid refetches, once.
  EXPECT_EQ(Reason(verifier->Verify(tokens[1])), VerifyError::kUnknownKey);
  EXPECT_EQ(server_.jwks_requests(), 3);
  EXPECT_EQ(Reason(verifier->Verify(tokens[2])), VerifyError::kUnknownKey);
  EXPECT_EQ(server_.jwks_requests(), 3);
  // Known keys were never affected.
  EXPECT_TRUE(verifier->Verify(Token()).has_value());
}

TEST_F(VerifierTest, ARevocationOnTheStreamIsRejectedWithinOneSecond) {
  auto verifier = Started(Options());
  const std::string token = Token("session-out");
  const std::string other = Token("session-stays");
  ASSERT_TRUE(verifier->Verify(token).has_value());
  ASSERT_TRUE(Eventually([&] { return server_.open_streams() == 1; }));

  const auto revoked_at = std::chrono::steady_clock::now();
  server_.Revoke("session-out", kStart.time_since_epoch().count() / 1000);
  const bool rejected =
      Eventually([&] { return Reason(verifier->Verify(token)) == VerifyError::kRevoked; }, 1s);
  const auto took = std::chrono::steady_clock::now() - revoked_at;
  EXPECT_TRUE(rejected);
  std::cout << "[ figure ] revocation → rejected after "
            << std::chrono::duration_cast<std::chrono::microseconds>(took).count() << " µs\n";
  EXPECT_TRUE(verifier->Verify(other).has_value());
  // It came by the stream: the list was read once, at start.
  EXPECT_EQ(server_.page_requests(), 1);
  EXPECT_EQ(server_.stream_last_event_ids().size(), 1U);
  EXPECT_EQ(verifier->Status().revoked_sessions, 1U);
}

TEST_F(VerifierTest, TheFirstSyncReadsEveryPageOfRetainedRevocations) {
  server_.SetPageSize(2);
  const std::int64_t now_s = kStart.time_since_epoch().count() / 1000;
  for (int i = 0; i < 4; ++i) server_.Revoke("old-" + std::to_string(i), now_s - 60);
  auto verifier = Started(Options());
  // 2 + 2 (hasMore: the page was full) + an empty last page.
  EXPECT_EQ(server_.page_requests(), 3);
  EXPECT_EQ(verifier->Status().revoked_sessions, 4U);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Reason(verifier->Verify(Token("old-" + std::to_string(i)))), VerifyError::kRevoked);
  }
  EXPECT_TRUE(verifier->Verify(Token("new")).has_value());
  // The stream continues after the last page's cursor.
  ASSERT_TRUE(Eventually([&] { return server_.stream_last_event_ids().size() == 1; }));
  EXPECT_EQ(server_.stream_last_event_ids()[0], server_.Cursor(4));
}

TEST_F(VerifierTest, ADroppedStreamReconnectsWithLastEventIdAndMissesNothing) {
  auto verifier = Started(Options());
  ASSERT_TRUE(Eventually([&] { return server_.open_streams() == 1; }));
  const std::int64_t now_s = kStart.time_since_epoch().count() / 1000;
  server_.Revoke("a", now_s);
  ASSERT_TRUE(
      Eventually([&] { return Reason(verifier->Verify(Token("a"))) == VerifyError::kRevoked; }));

  // The stream breaks; "b" is revoked while no stream is open to carry it.
  server_.DropStreams(std::pair<std::string, std::int64_t>{"b", now_s});
  EXPECT_TRUE(
      Eventually([&] { return Reason(verifier->Verify(Token("b"))) == VerifyError::kRevoked; }));
  // The second stream asked to resume after "a"; the list was not read again.
  const std::vector<std::string> ids = server_.stream_last_event_ids();
  ASSERT_EQ(ids.size(), 2U);
  EXPECT_EQ(ids[0], server_.Cursor(0));
  EXPECT_EQ(ids[1], server_.Cursor(1));
  EXPECT_EQ(server_.page_requests(), 1);
  EXPECT_EQ(Reason(verifier->Verify(Token("a"))), VerifyError::kRevoked);
}

TEST_F(VerifierTest, ARefusedCursorMakesItReadTheWholeListAgain) {
  auto verifier = Started(Options());
  ASSERT_TRUE(Eventually([&] { return server_.open_streams() == 1; }));
  const std::string old_cursor = server_.Cursor(0);
  const std::int64_t now_s = kStart.time_since_epoch().count() / 1000;
  // The server lost its cursor space: the stream is closed, "c" is revoked meanwhile.
  server_.ForgetCursors(std::pair<std::string, std::int64_t>{"c", now_s});
  EXPECT_TRUE(
      Eventually([&] { return Reason(verifier->Verify(Token("c"))) == VerifyError::kRevoked; }));
  ASSERT_TRUE(Eventually([&] { return server_.open_streams() == 1; }));
  EXPECT_EQ(server_.page_requests(), 2);
  const std::vector<std::string> ids = server_.stream_last_event_ids();
  ASSERT_EQ(ids.size(), 3U);
  EXPECT_EQ(ids[1], old_cursor);         // Refused with 400 …
  EXPECT_EQ(ids[2], server_.Cursor(1));  // … so the list was read again, then followed.
  server_.Revoke("d", now_s);
  EXPECT_TRUE(
      Eventually([&] { return Reason(verifier->Verify(Token("d"))) == VerifyError::kRevoked; }));
}

TEST_F(VerifierTest, FailsClosedWhenTheFeedIsDownAndRecoversWhenItIsBack) {
  VerifierOptions options = Options();
  options.feed_stale_after = 30s;
  auto verifier = Started(options);
  AwaitStream(*verifier);
  const std::string token = Token();
  ASSERT_TRUE(verifier->Verify(token).has_value());

  server_.SetFeedDown(true);
  clock_.Advance(30s);  // Last confirmed exactly 30 s ago: still within.
  EXPECT_TRUE(verifier->Verify(token).has_value());
  clock_.Advance(1s);
  const auto stale = verifier->Verify(token);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().error, VerifyError::kFeedStale);
  EXPECT_EQ(VerifyErrorName(stale.error().error), "REVOCATION_FEED_STALE");
  // A token that is bad anyway keeps its own reason.
  EXPECT_EQ(Reason(verifier->Verify("abc")), VerifyError::kMalformed);

  server_.SetFeedDown(false);
  EXPECT_TRUE(Eventually([&] { return verifier->Verify(token).has_value(); }));
}

TEST_F(VerifierTest, FailOpenKeepsAcceptingWhileTheFeedIsDown) {
  VerifierOptions options = Options();
  options.feed_stale_after = 0s;
  auto verifier = Started(options);
  server_.SetFeedDown(true);
  clock_.Advance(120s);
  EXPECT_TRUE(verifier->Verify(Token()).has_value());
}

TEST_F(VerifierTest, HeartbeatsKeepTheFeedConfirmed) {
  VerifierOptions options = Options();
  options.feed_stale_after = 30s;
  auto verifier = Started(options);
  AwaitStream(*verifier);
  const std::string token = Token();
  clock_.Advance(20s);
  server_.Ping();
  ASSERT_TRUE(Eventually([&] {
    return verifier->Status().feed_confirmed_at ==
           std::chrono::system_clock::time_point(clock_.Now());
  }));
  clock_.Advance(20s);  // 40 s after the sync, 20 s after the ping.
  EXPECT_TRUE(verifier->Verify(token).has_value());
  clock_.Advance(11s);
  EXPECT_EQ(Reason(verifier->Verify(token)), VerifyError::kFeedStale);
}

TEST_F(VerifierTest, UntilTheFirstSyncFailClosedRejectsAndFailOpenAccepts) {
  server_.SetFeedDown(true);
  auto closed = Started(Options(), /*wait_ready=*/false);
  VerifierOptions open_options = Options();
  open_options.feed_stale_after = 0s;
  auto open = Started(open_options, /*wait_ready=*/false);
  EXPECT_FALSE(closed->WaitUntilReady(200ms));
  ASSERT_TRUE(
      Eventually([&] { return closed->Status().keys_loaded && open->Status().keys_loaded; }));
  EXPECT_FALSE(closed->Status().feed_synced);
  const std::string token = Token();
  EXPECT_EQ(Reason(closed->Verify(token)), VerifyError::kFeedStale);
  EXPECT_TRUE(open->Verify(token).has_value());

  server_.SetFeedDown(false);
  EXPECT_TRUE(closed->WaitUntilReady(5s));
  EXPECT_TRUE(closed->Verify(token).has_value());
  std::lock_guard lock(log_mu_);
  EXPECT_FALSE(log_.empty());  // The failed attempts were reported.
}

TEST_F(VerifierTest, WaitsForTheJwksWhenSessiondIsNotUpYet) {
  server_.SetJwks("<html>starting</html>");
  auto verifier = Started(Options(), /*wait_ready=*/false);
  EXPECT_FALSE(verifier->WaitUntilReady(150ms));
  EXPECT_EQ(Reason(verifier->Verify(Token())), VerifyError::kUnknownKey);
  PublishKeys();
  EXPECT_TRUE(verifier->WaitUntilReady(5s));  // Retried on the reconnect backoff.
  EXPECT_TRUE(verifier->Verify(Token()).has_value());
}

TEST_F(VerifierTest, ForgetsRevocationsOnceEveryTokenOfTheSessionHasExpired) {
  VerifierOptions options = Options();
  options.max_token_lifetime = 900s;
  options.feed_stale_after = 0s;
  auto verifier = Started(options);
  const std::int64_t now_s = kStart.time_since_epoch().count() / 1000;
  server_.Revoke("early", now_s);
  ASSERT_TRUE(Eventually([&] { return verifier->Status().revoked_sessions == 1; }));
  clock_.Advance(900s + 10s + 61s);  // Lifetime + leeway, and the prune period.
  server_.Revoke("late", now_s + 971);
  ASSERT_TRUE(
      Eventually([&] { return Reason(verifier->Verify(Token("late"))) == VerifyError::kRevoked; }));
  EXPECT_EQ(verifier->Status().revoked_sessions, 1U);
  EXPECT_TRUE(verifier->Verify(Token("early")).has_value());  // A new token: not revoked.
}

TEST_F(VerifierTest, StopKeepsWhatWasLearntAndStopsFetching) {
  auto verifier = Started(Options());
  const std::string token = Token();
  verifier->Stop();
  EXPECT_FALSE(verifier->Status().running);
  EXPECT_TRUE(verifier->Verify(token).has_value());
  const jwt::Key stranger = NewKey(jwt::Algorithm::kEdDSA);
  EXPECT_EQ(Reason(verifier->Verify(Sign(MakeClaims(), &stranger))), VerifyError::kUnknownKey);
  EXPECT_EQ(server_.jwks_requests(), 1);
  clock_.Advance(31s);
  EXPECT_EQ(Reason(verifier->Verify(token)), VerifyError::kFeedStale);
  verifier->Start();  // And it can start again.
  EXPECT_TRUE(Eventually([&] { return verifier->Verify(token).has_value(); }));
}

TEST_F(VerifierTest, VerifyIsSafeAndCheapUnderConcurrency) {
  auto verifier = Started(Options());
  const std::string token = Token();
  constexpr int kAlone = 500;
  const auto alone_start = std::chrono::steady_clock::now();
  for (int i = 0; i < kAlone; ++i) ASSERT_TRUE(verifier->Verify(token).has_value());
  std::cout << "[ figure ] one thread: "
            << std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now() - alone_start)
                       .count() /
                   kAlone
            << " µs per EdDSA Verify\n";
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::atomic<int> ok{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) ok += verifier->Verify(token).has_value() ? 1 : 0;
    });
  }
  // Revocations of other sessions stream in meanwhile (writers on the same lock).
  for (int i = 0; i < 50; ++i) server_.Revoke("other-" + std::to_string(i), 1795431473);
  for (auto& thread : threads) thread.join();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  std::cout << "[ figure ] " << kThreads * kPerThread << " EdDSA verifies on " << kThreads
            << " threads: "
            << std::chrono::duration_cast<std::chrono::microseconds>(took).count() /
                   (kThreads * kPerThread)
            << " µs each (wall time / count)\n";
  EXPECT_TRUE(Eventually([&] { return verifier->Status().revoked_sessions == 50; }));
}

TEST_F(VerifierTest, WorksOverHttpsWithTheServersCertificate) {
  FakeAuthServer https(/*tls=*/true);
  https.SetJwks(boost::json::serialize(keys_.Jwks()));
  VerifierOptions options = Options();
  options.base_url = https.base_url();
  options.tls_ca_file = https.ca_file();
  auto verifier = Started(options);
  ASSERT_TRUE(verifier->Status().keys_loaded);
  const std::string token = Token("tls-session");
  EXPECT_TRUE(verifier->Verify(token).has_value());
  // The event stream runs over TLS too.
  ASSERT_TRUE(Eventually([&] { return https.open_streams() == 1; }));
  https.Revoke("tls-session", kStart.time_since_epoch().count() / 1000);
  EXPECT_TRUE(
      Eventually([&] { return Reason(verifier->Verify(token)) == VerifyError::kRevoked; }, 1s));
  verifier.reset();  // Before `https` goes away.
}

TEST_F(VerifierTest, RefusesAnHttpsServerItCannotAuthenticate) {
  FakeAuthServer https(/*tls=*/true);
  https.SetJwks(boost::json::serialize(keys_.Jwks()));
  VerifierOptions options = Options();
  options.base_url = https.base_url();  // The system trust store does not know this cert.
  auto verifier = Started(options, /*wait_ready=*/false);
  EXPECT_FALSE(verifier->WaitUntilReady(300ms));
  EXPECT_FALSE(verifier->Status().keys_loaded);
  EXPECT_EQ(https.jwks_requests(), 0);  // No request was sent over the unverified channel.
  {
    std::lock_guard lock(log_mu_);
    bool reported = false;
    for (const std::string& line : log_) reported |= line.find("tls handshake") != line.npos;
    EXPECT_TRUE(reported);
  }
  verifier.reset();
}

TEST(VerifierCreateTest, RefusesOptionsItCannotHonour) {
  const auto base = [] {
    VerifierOptions options;
    options.base_url = "http://127.0.0.1:1";
    options.issuer = "i";
    options.audience = "a";
    return options;
  };
  EXPECT_TRUE(Verifier::Create(base()).has_value());
  const std::vector<std::pair<std::string, std::function<void(VerifierOptions&)>>> cases = {
      {"bad url", [](VerifierOptions& o) { o.base_url = "127.0.0.1:3000"; }},
      {"path in url", [](VerifierOptions& o) { o.base_url = "http://h/auth"; }},
      {"no issuer", [](VerifierOptions& o) { o.issuer.clear(); }},
      {"no audience", [](VerifierOptions& o) { o.audience.clear(); }},
      {"empty allowlist", [](VerifierOptions& o) { o.algorithms.clear(); }},
      {"none", [](VerifierOptions& o) { o.algorithms = {"none"}; }},
      {"HS256",
       [](VerifierOptions& o) {
         o.algorithms = {"EdDSA", "HS256"};
       }},
      {"lowercase", [](VerifierOptions& o) { o.algorithms = {"eddsa"}; }},
      {"leeway", [](VerifierOptions& o) { o.leeway = 61s; }},
      {"relative path", [](VerifierOptions& o) { o.jwks_path = "api/auth/jwks"; }},
      {"header injection", [](VerifierOptions& o) { o.revocations_path = "/x\r\nA: b"; }},
      {"query in path", [](VerifierOptions& o) { o.revocations_path = "/x?y"; }},
      {"no rate limit", [](VerifierOptions& o) { o.min_jwks_refetch_interval = 0s; }},
      {"long wait", [](VerifierOptions& o) { o.unknown_kid_wait = 11s; }},
      {"lifetime", [](VerifierOptions& o) { o.max_token_lifetime = 0s; }},
      {"stale", [](VerifierOptions& o) { o.feed_stale_after = -1s; }},
      {"backoff", [](VerifierOptions& o) { o.max_reconnect_delay = 10ms; }},
      {"ca for http", [](VerifierOptions& o) { o.tls_ca_file = "/etc/ssl/certs/x.pem"; }},
      {"missing ca",
       [](VerifierOptions& o) {
         o.base_url = "https://127.0.0.1:1";
         o.tls_ca_file = "/nonexistent/ca.pem";
       }},
  };
  for (const auto& [name, mutate] : cases) {
    VerifierOptions options = base();
    mutate(options);
    const auto created = Verifier::Create(std::move(options));
    EXPECT_FALSE(created.has_value()) << name;
  }
  VerifierOptions https = base();
  https.base_url = "https://auth.example.com";
  EXPECT_TRUE(Verifier::Create(https).has_value());  // The system trust store.
}

TEST(BearerTokenTest, ExtractsTheTokenOfABearerHeader) {
  EXPECT_EQ(BearerToken("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(BearerToken("bearer   abc  "), "abc");
  EXPECT_EQ(BearerToken("BEARER x"), "x");
  EXPECT_EQ(BearerToken("Bearer"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer "), std::nullopt);
  EXPECT_EQ(BearerToken("Bearerabc"), std::nullopt);
  EXPECT_EQ(BearerToken("Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer a b"), std::nullopt);
}

TEST(VerifyErrorNameTest, NamesAreStable) {
  const std::vector<std::pair<VerifyError, std::string_view>> names = {
      {VerifyError::kMalformed, "MALFORMED"},
      {VerifyError::kBadAlgorithm, "BAD_ALGORITHM"},
      {VerifyError::kUnknownKey, "UNKNOWN_KEY"},
      {VerifyError::kBadSignature, "BAD_SIGNATURE"},
      {VerifyError::kInvalidClaims, "INVALID_CLAIMS"},
      {VerifyError::kExpired, "EXPIRED"},
      {VerifyError::kNotYetValid, "NOT_YET_VALID"},
      {VerifyError::kWrongIssuer, "WRONG_ISSUER"},
      {VerifyError::kWrongAudience, "WRONG_AUDIENCE"},
      {VerifyError::kRevoked, "REVOKED"},
      {VerifyError::kFeedStale, "REVOCATION_FEED_STALE"},
  };
  for (const auto& [error, name] : names) EXPECT_EQ(VerifyErrorName(error), name);
}

}  // namespace
}  // namespace sessiond::verifier
