#include "routes/render.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <string>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>

#include "common/clock.h"

namespace sessiond::routes {
namespace {

// A JSON string literal with the escapes boost::json::serialize writes (RFC 8259 §7): the two
// mandatory escapes, the short forms of \b \f \n \r \t, \u00xx for the other control
// characters; everything else, UTF-8 included, as is. render_test checks the equivalence.
void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // Start of the bytes not yet copied.
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
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
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

// "key": (the key is a literal without anything to escape).
void AppendKey(std::string& out, std::string_view key) {
  out += '"';
  out += key;
  out += "\":";
}

// "ToIso8601(t)", written in place (no temporary string: five dates per get-session).
void AppendDate(std::string& out, TimePoint t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {
    out += '"';
    out += ToIso8601(t);
    out += '"';
    return;
  }
  const std::chrono::hh_mm_ss<milliseconds> hms{t - days};
  std::array<char, 26> buf{};
  const auto put = [&buf](std::size_t at, long long value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      buf[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  constexpr std::string_view kTemplate = "\"0000-00-00T00:00:00.000Z\"";
  std::copy(kTemplate.begin(), kTemplate.end(), buf.begin());
  put(1, year, 4);
  put(6, static_cast<unsigned>(ymd.month()), 2);
  put(9, static_cast<unsigned>(ymd.day()), 2);
  put(12, hms.hours().count(), 2);
  put(15, hms.minutes().count(), 2);
  put(18, hms.seconds().count(), 2);
  put(21, hms.subseconds().count(), 3);
  out.append(buf.data(), kTemplate.size());
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
  out += "{\"session\":{";
  AppendKey(out, "expiresAt");
  AppendDate(out, session.expires_at);
  out += ',';
  AppendKey(out, "token");
  AppendJsonString(out, handle);
  out += ',';
  AppendKey(out, "createdAt");
  AppendDate(out, session.created_at);
  out += ',';
  AppendKey(out, "updatedAt");
  AppendDate(out, session.updated_at);
  out += ',';
  AppendKey(out, "ipAddress");
  AppendJsonString(out, session.ip_address);
  out += ',';
  AppendKey(out, "userAgent");
  AppendJsonString(out, session.user_agent);
  out += ',';
  AppendKey(out, "userId");
  AppendJsonString(out, session.user_id);
  out += ',';
  AppendKey(out, "id");
  AppendJsonString(out, session.id);
  out += ',';
  AppendKey(out, "userAgentParsed");
  AppendUserAgentParsed(out, session.user_agent_parsed);
  out += "},\"user\":{";
  AppendKey(out, "name");
  AppendJsonString(out, user.name);
  out += ',';
  AppendKey(out, "email");
  AppendJsonString(out, user.email);
  out += ',';
  AppendKey(out, "emailVerified");
  out += user.email_verified ? "true" : "false";
  out += ',';
  AppendKey(out, "image");
  if (user.image) {
    AppendJsonString(out, *user.image);
  } else {
    out += "null";
  }
  out += ',';
  AppendKey(out, "createdAt");
  AppendDate(out, user.created_at);
  out += ',';
  AppendKey(out, "updatedAt");
  AppendDate(out, user.updated_at);
  out += ',';
  AppendKey(out, "id");
  AppendJsonString(out, user.id);
  out += "}}";
  return out;
}

}  // namespace sessiond::routes
