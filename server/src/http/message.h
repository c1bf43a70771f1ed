// Transport-neutral request and response types. Routes see only these, never Beast, so the
// routes library compiles without Boost headers and can be tested without a socket.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sessiond::http {

// Header names are compared case-insensitively (RFC 9110 §5.1).
class Headers {
 public:
  void Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // First value of the header, if present.
  [[nodiscard]] std::optional<std::string_view> Get(std::string_view name) const;
  // Every value of the header in order (e.g. several Set-Cookie).
  [[nodiscard]] std::vector<std::string_view> GetAll(std::string_view name) const;
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& fields() const {
    return fields_;
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
  std::string method;  // Upper case, e.g. "GET".
  std::string path;    // Decoded path without the query, e.g. "/api/auth/get-session".
  std::string query;   // Raw query string without '?', may be empty.
  Headers headers;
  std::string body;
  std::string peer_ip;    // The socket peer.
  std::string client_ip;  // peer_ip, or X-Forwarded-For's client when the peer is trusted.

  // Value of a query parameter (percent-decoded), if present.
  [[nodiscard]] std::optional<std::string> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  // A JSON response; sets content-type: application/json.
  [[nodiscard]] static Response Json(int status, std::string body);
};

}  // namespace sessiond::http
