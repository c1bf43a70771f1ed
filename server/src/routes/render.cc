#include "routes/render.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>

#include "common/clock.h"

namespace sessiond::routes {
namespace {

// Whether any of the 8 bytes in `w` needs escaping in a JSON string: < 0x20, '"' or '\\'. The
// has-less-than / has-zero-byte word tricks ("Bit Twiddling Hacks", S. E. Anderson): exact
// about whether such a byte exists, which is all the scan below needs.
constexpr bool AnyNeedsEscape(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const std::uint64_t control = (w - kOnes * 0x20) & ~w & kHigh;
  const std::uint64_t quote = w ^ (kOnes * '"');
  const std::uint64_t backslash = w ^ (kOnes * '\\');
  return (control | ((quote - kOnes) & ~quote & kHigh) |
          ((backslash - kOnes) & ~backslash & kHigh)) != 0;
}

// A JSON string literal with the escapes boost::json::serialize writes (RFC 8259 §7): the two
// mandatory escapes, the short forms of \b \f \n \r \t, \u00xx for the other control
// characters; everything else, UTF-8 included, as is. render_test checks the equivalence.
void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // Start of the bytes not yet copied.
  std::size_t i = 0;
  while (i < s.size()) {
    // Clean stretches are skipped 8 bytes at a time (most strings have nothing to escape).
    if (s.size() - i >= 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, s.data() + i, sizeof word);
      if (!AnyNeedsEscape(word)) {
        i += 8;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
        break;
    }
    ++i;
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

// "ToIso8601(t)", written in place (no temporary string; five dates per get-session). The civil
// date from the day count is H. Hinnant's civil_from_days (the proleptic Gregorian calendar, as
// std::chrono::year_month_day); years outside 0..9999 take ToIso8601 itself.
void AppendDate(std::string& out, TimePoint t) {
  constexpr std::int64_t kMsPerDay = 86'400'000;
  const std::int64_t ms = t.time_since_epoch().count();
  std::int64_t days = ms / kMsPerDay;
  std::int64_t in_day = ms % kMsPerDay;
  if (in_day < 0) {
    in_day += kMsPerDay;
    --days;
  }
  const std::int64_t z = days + 719'468;
  const std::int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const std::int64_t doe = z - era * 146'097;                                         // [0, 146096]
  const std::int64_t yoe = (doe - doe / 1'460 + doe / 36'524 - doe / 146'096) / 365;  // [0, 399]
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                   // [0, 365]
  const std::int64_t mp = (5 * doy + 2) / 153;                                        // [0, 11]
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) {
    out += '"';
    out += ToIso8601(t);
    out += '"';
    return;
  }
  char buf[] = "\"0000-00-00T00:00:00.000Z\"";
  const auto put = [&buf](std::size_t at, std::int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      buf[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(1, year, 4);
  put(6, month, 2);
  put(9, day, 2);
  put(12, in_day / 3'600'000, 2);
  put(15, in_day / 60'000 % 60, 2);
  put(18, in_day / 1'000 % 60, 2);
  put(21, in_day % 1'000, 3);
  out.append(buf, sizeof buf - 1);
}

// A boost::json::basic_parser handler that builds nothing: the text is only checked.
struct ValidateOnly {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_object_begin(boost::json::error_code&) { return true; }
  bool on_object_end(std::size_t, boost::json::error_code&) { return true; }
  bool on_array_begin(boost::json::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::json::error_code&) { return true; }
  bool on_key_part(boost::json::string_view, std::size_t, boost::json::error_code&) { return true; }
  bool on_key(boost::json::string_view, std::size_t, boost::json::error_code&) { return true; }
  bool on_string_part(boost::json::string_view, std::size_t, boost::json::error_code&) {
    return true;
  }
  bool on_string(boost::json::string_view, std::size_t, boost::json::error_code&) { return true; }
  bool on_number_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_int64(std::int64_t, boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_double(double, boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_bool(bool, boost::json::error_code&) { return true; }
  bool on_null(boost::json::error_code&) { return true; }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }
};

// Whether `text` is one complete JSON document (RFC 8259, no extensions).
bool IsJson(std::string_view text) {
  boost::json::basic_parser<ValidateOnly> parser{boost::json::parse_options{}};
  boost::json::error_code ec;
  const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  return !ec && used == text.size() && parser.done();
}

// IsJson, remembering the last text that passed on this thread: the sessions of one kind of
// client carry the same text, so most checks are one comparison.
bool IsJsonRemembered(std::string_view text) {
  thread_local std::string last_valid;
  if (!last_valid.empty() && text == last_valid) return true;
  if (!IsJson(text)) return false;
  last_valid.assign(text);
  return true;
}

// The stored user_agent_parsed: written by our own serializer at sign-in, so it is emitted as
// stored; null when absent or (defensively: the column is plain text) not JSON.
void AppendUserAgentParsed(std::string& out, std::string_view stored) {
  if (stored.empty() || !IsJsonRemembered(stored)) {
    out += "null";
  } else {
    out += stored;
  }
}

}  // namespace

boost::json::object RenderUser(const store::User& user) {
  boost::json::object o;
  o.reserve(7);
  o.emplace("name", user.name);
  o.emplace("email", user.email);
  o.emplace("emailVerified", user.email_verified);
  if (user.image) {
    o.emplace("image", *user.image);
  } else {
    o.emplace("image", nullptr);
  }
  o.emplace("createdAt", ToIso8601(user.created_at));
  o.emplace("updatedAt", ToIso8601(user.updated_at));
  o.emplace("id", user.id);
  return o;
}

boost::json::object RenderSession(const store::Session& session, std::string_view handle) {
  boost::json::object o;
  o.reserve(9);
  o.emplace("expiresAt", ToIso8601(session.expires_at));
  o.emplace("token", handle);
  o.emplace("createdAt", ToIso8601(session.created_at));
  o.emplace("updatedAt", ToIso8601(session.updated_at));
  o.emplace("ipAddress", session.ip_address);
  o.emplace("userAgent", session.user_agent);
  o.emplace("userId", session.user_id);
  o.emplace("id", session.id);
  boost::system::error_code ec;
  boost::json::value parsed = session.user_agent_parsed.empty()
                                  ? boost::json::value(nullptr)
                                  : boost::json::parse(session.user_agent_parsed, ec);
  o.emplace("userAgentParsed", ec ? boost::json::value(nullptr) : std::move(parsed));
  return o;
}

std::string RenderSessionAndUser(const store::Session& session, std::string_view handle,
                                 const store::User& user) {
  std::string out;
  out.reserve(640 + session.user_agent.size() + session.user_agent_parsed.size() +
              user.name.size() + user.email.size() + (user.image ? user.image->size() : 0));
  // The keys in RenderSession's and RenderUser's order: the bytes are what
  // boost::json::serialize gives for {"session": RenderSession(..), "user": RenderUser(..)}.
  out += R"({"session":{"expiresAt":)";
  AppendDate(out, session.expires_at);
  out += R"(,"token":)";
  AppendJsonString(out, handle);
  out += R"(,"createdAt":)";
  AppendDate(out, session.created_at);
  out += R"(,"updatedAt":)";
  AppendDate(out, session.updated_at);
  out += R"(,"ipAddress":)";
  AppendJsonString(out, session.ip_address);
  out += R"(,"userAgent":)";
  AppendJsonString(out, session.user_agent);
  out += R"(,"userId":)";
  AppendJsonString(out, session.user_id);
  out += R"(,"id":)";
  AppendJsonString(out, session.id);
  out += R"(,"userAgentParsed":)";
  AppendUserAgentParsed(out, session.user_agent_parsed);
  out += R"(},"user":{"name":)";
  AppendJsonString(out, user.name);
  out += R"(,"email":)";
  AppendJsonString(out, user.email);
  out += user.email_verified ? R"(,"emailVerified":true,"image":)"
                             : R"(,"emailVerified":false,"image":)";
  if (user.image) {
    AppendJsonString(out, *user.image);
  } else {
    out += "null";
  }
  out += R"(,"createdAt":)";
  AppendDate(out, user.created_at);
  out += R"(,"updatedAt":)";
  AppendDate(out, user.updated_at);
  out += R"(,"id":)";
  AppendJsonString(out, user.id);
  out += "}}";
  return out;
}

}  // namespace sessiond::routes
