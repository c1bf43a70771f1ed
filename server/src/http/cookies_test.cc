#include "http/cookies.h"

#include <gtest/gtest.h>

#include <string>

namespace sessiond::http {
namespace {

constexpr std::string_view kSigned =
    "M1KDsksfkVsxkTyXuOoNw9OZvmsCwqI0.b/u1DGTQdjvMbb2uAJ7eATD8/miQfu6+m3RY+ForYJs=";
constexpr std::string_view kSignedEncoded =
    "M1KDsksfkVsxkTyXuOoNw9OZvmsCwqI0.b%2Fu1DGTQdjvMbb2uAJ7eATD8%2FmiQfu6%2Bm3RY%2BForYJs%3D";

TEST(FindCookieTest, FindsByExactName) {
  const std::string header = "a=1; better-auth.session_token=tok; b=2";
  EXPECT_EQ(FindCookie(header, "a"), "1");
  EXPECT_EQ(FindCookie(header, "better-auth.session_token"), "tok");
  EXPECT_EQ(FindCookie(header, "b"), "2");
  EXPECT_FALSE(FindCookie(header, "c").has_value());
  EXPECT_FALSE(FindCookie(header, "A").has_value());  // Names are case-sensitive.
  EXPECT_FALSE(FindCookie(header, "better-auth").has_value());
}

TEST(FindCookieTest, PercentDecodesTheValue) {
  const std::string header = "better-auth.session_token=" + std::string(kSignedEncoded);
  EXPECT_EQ(FindCookie(header, "better-auth.session_token"), kSigned);
  EXPECT_EQ(FindCookie("x=%2B%2F%3D", "x"), "+/=");
  EXPECT_EQ(FindCookie("x=%2b%2f%3d", "x"), "+/=");  // Lower-case hex too.
  EXPECT_EQ(FindCookie("x=a+b", "x"), "a+b");        // '+' is not a space in cookies.
}

TEST(FindCookieTest, FirstOccurrenceWins) {
  EXPECT_EQ(FindCookie("s=first; s=second", "s"), "first");
}

TEST(FindCookieTest, TrimsWhitespaceAndStripsQuotes) {
  EXPECT_EQ(FindCookie("  a = 1 ;\tb=\t2\t", "a"), "1");
  EXPECT_EQ(FindCookie("  a = 1 ;\tb=\t2\t", "b"), "2");
  EXPECT_EQ(FindCookie("q=\"quoted%3D\"", "q"), "quoted=");
  EXPECT_EQ(FindCookie("q=\"\"", "q"), "");
  EXPECT_EQ(FindCookie("q=\"", "q"), "\"");  // A lone quote is just a character.
  EXPECT_EQ(FindCookie("q=\"abc", "q"), "\"abc");
}

TEST(FindCookieTest, ToleratesGarbage) {
  EXPECT_EQ(FindCookie("a; =b; ;;; c=3", "c"), "3");
  EXPECT_FALSE(FindCookie("a", "a").has_value());  // No '=': not a pair.
  EXPECT_FALSE(FindCookie("=b", "").has_value());  // Empty names never match.
  EXPECT_FALSE(FindCookie("", "a").has_value());
  EXPECT_FALSE(FindCookie(";;", "a").has_value());
  EXPECT_FALSE(FindCookie("=", "a").has_value());
  EXPECT_EQ(FindCookie("a=", "a"), "");
  EXPECT_EQ(FindCookie("a==b=", "a"), "=b=");
  EXPECT_EQ(FindCookie("a=%", "a"), "%");
  EXPECT_EQ(FindCookie("a=%4", "a"), "%4");
  EXPECT_EQ(FindCookie("a=%zz%41", "a"), "%zzA");
  EXPECT_EQ(FindCookie("a=\xff\xfe; b=\xc3\xa9", "b"), "\xc3\xa9");
  EXPECT_EQ(FindCookie("\xff=1; a=2", "a"), "2");
  EXPECT_EQ(FindCookie(std::string("a=1\0; b=2", 9), "b"), "2");
}

TEST(FindCookieTest, VeryLongValues) {
  const std::string long_value(100'000, 'x');
  const std::string header = "junk=" + std::string(50'000, ';') + "; big=" + long_value;
  EXPECT_EQ(FindCookie(header, "big"), long_value);
  EXPECT_EQ(FindCookie(std::string(100'000, '%'), "a"), std::nullopt);
}

TEST(SerializeTest, MatchesBetterAuthSessionCookie) {
  const SetCookie cookie{
      .name = "better-auth.session_token", .value = std::string(kSigned), .max_age = 604800};
  EXPECT_EQ(Serialize(cookie), "better-auth.session_token=" + std::string(kSignedEncoded) +
                                   "; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax");
}

TEST(SerializeTest, ClearingCookieHasMaxAgeZero) {
  const SetCookie cookie{.name = "better-auth.session_data", .value = "", .max_age = 0};
  EXPECT_EQ(Serialize(cookie),
            "better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
}

TEST(SerializeTest, SessionCookieOmitsMaxAge) {
  // Designated initializers rather than assignments: GCC 12 -Wrestrict false positive (PR 105329)
  // on assigning short literals to std::string at -O3.
  const SetCookie cookie{.name = "a", .value = "b"};
  EXPECT_EQ(Serialize(cookie), "a=b; Path=/; HttpOnly; SameSite=Lax");
}

TEST(SerializeTest, SecureGoesBetweenHttpOnlyAndSameSite) {
  const SetCookie cookie{.name = "__Secure-better-auth.session_token",
                         .value = "v",
                         .max_age = 86400,
                         .secure = true,
                         .same_site = "Strict"};
  EXPECT_EQ(Serialize(cookie),
            "__Secure-better-auth.session_token=v; Max-Age=86400; Path=/; HttpOnly; Secure; "
            "SameSite=Strict");
}

TEST(SerializeTest, OptionalAttributesCanBeDropped) {
  const SetCookie cookie{
      .name = "a", .value = "b", .path = "", .http_only = false, .same_site = ""};
  EXPECT_EQ(Serialize(cookie), "a=b");
}

TEST(PercentEncodeTest, MatchesEncodeUriComponent) {
  // Expected values from JavaScript's encodeURIComponent.
  EXPECT_EQ(PercentEncode(kSigned), kSignedEncoded);
  EXPECT_EQ(PercentEncode("a b/c?d&e"), "a%20b%2Fc%3Fd%26e");
  EXPECT_EQ(PercentEncode("-_.!~*'()"), "-_.!~*'()");
  EXPECT_EQ(PercentEncode("AZaz09"), "AZaz09");
  EXPECT_EQ(PercentEncode("#$&+,/:;=?@"), "%23%24%26%2B%2C%2F%3A%3B%3D%3F%40");
  EXPECT_EQ(PercentEncode("[]{}|\\^`\"<>%"), "%5B%5D%7B%7D%7C%5C%5E%60%22%3C%3E%25");
  EXPECT_EQ(PercentEncode("\xc3\xa9"), "%C3%A9");         // "é"
  EXPECT_EQ(PercentEncode("\xe2\x82\xac"), "%E2%82%AC");  // "€"
  EXPECT_EQ(PercentEncode(std::string("\0\n", 2)), "%00%0A");
  EXPECT_EQ(PercentEncode(""), "");
}

TEST(PercentDecodeTest, RoundTripsAndToleratesInvalidEscapes) {
  for (const std::string_view s :
       {std::string_view("a b/c?d&e=f+g"), kSigned, std::string_view("\xc3\xa9\xff%")}) {
    EXPECT_EQ(PercentDecode(PercentEncode(s)), s);
  }
  EXPECT_EQ(PercentDecode("%"), "%");
  EXPECT_EQ(PercentDecode("%%41"), "%A");
  EXPECT_EQ(PercentDecode("%G0"), "%G0");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%00"), std::string("\0", 1));
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode("ab%41cd%42"), "abAcdB");
  EXPECT_EQ(PercentDecode("%e2%82%AC!"), "\xe2\x82\xac!");
  EXPECT_EQ(PercentDecode("x%4"), "x%4");
  EXPECT_EQ(PercentDecode("/api/auth/get-session"), "/api/auth/get-session");
}

}  // namespace
}  // namespace sessiond::http
