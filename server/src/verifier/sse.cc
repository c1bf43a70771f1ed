#include "verifier/sse.h"

#include <algorithm>
#include <charconv>
#include <system_error>

namespace sessiond::verifier::internal {

bool SseParser::Feed(std::string_view bytes, const std::function<bool(const SseEvent&)>& on_event) {
  if (!started_) {
    // The stream may start with a UTF-8 BOM (§9.2.6); it may also arrive split. Wait for
    // three bytes (or a difference) before deciding.
    line_.append(bytes);
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    const std::string_view head = std::string_view(line_).substr(0, kBom.size());
    if (head.size() < kBom.size() && kBom.starts_with(head)) return true;
    started_ = true;
    std::string pending = std::move(line_);
    line_.clear();
    std::string_view rest = pending;
    if (rest.starts_with(kBom)) rest.remove_prefix(kBom.size());
    return Feed(rest, on_event);
  }
  std::size_t start = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c != '\n' && c != '\r') {
      after_cr_ = false;
      continue;
    }
    if (c == '\n' && after_cr_ && i == start && line_.empty()) {
      // The LF of a CRLF whose CR ended the previous line.
      after_cr_ = false;
      start = i + 1;
      continue;
    }
    after_cr_ = c == '\r';
    std::string_view piece = bytes.substr(start, i - start);
    start = i + 1;
    bool ok = false;
    if (line_.empty()) {
      ok = piece.size() <= kMaxLineBytes && Line(piece, on_event);
    } else {
      line_.append(piece);
      const std::string line = std::move(line_);
      line_.clear();
      ok = line.size() <= kMaxLineBytes && Line(line, on_event);
    }
    if (!ok) return false;
  }
  line_.append(bytes.substr(start));
  return line_.size() <= kMaxLineBytes;
}

bool SseParser::Line(std::string_view line, const std::function<bool(const SseEvent&)>& on_event) {
  ++lines_;
  if (line.empty()) {
    last_event_id_ = id_buffer_;
    if (data_.empty()) {
      event_type_.clear();
      return true;
    }
    if (data_.back() == '\n') data_.pop_back();
    SseEvent event{event_type_.empty() ? std::string("message") : std::move(event_type_),
                   std::move(data_), last_event_id_};
    event_type_.clear();
    data_.clear();
    return on_event(event);
  }
  if (line.front() == ':') return true;  // A comment.
  std::string_view field = line;
  std::string_view value;
  if (const std::size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
  }
  if (field == "event") {
    event_type_ = value;
  } else if (field == "data") {
    data_.append(value);
    data_ += '\n';
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_buffer_ = value;
  } else if (field == "retry") {
    const bool digits = !value.empty() && std::all_of(value.begin(), value.end(),
                                                      [](char c) { return c >= '0' && c <= '9'; });
    std::uint64_t ms = 0;
    if (digits) {
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
      if (ec == std::errc() && end == value.data() + value.size()) {
        retry_ = std::chrono::milliseconds(static_cast<std::int64_t>(
            std::min<std::uint64_t>(ms, std::uint64_t{24} * 3600 * 1000)));
      }
    }
  }
  return true;
}

}  // namespace sessiond::verifier::internal
