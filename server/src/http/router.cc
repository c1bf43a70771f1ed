#include "http/router.h"

#include <algorithm>
#include <utility>

#include "common/error.h"
#include "http/error_table.h"

namespace sessiond::http {

void Router::Add(std::string method, std::string path, Handler handler, Execution execution) {
  routes_[std::move(path)].insert_or_assign(std::move(method),
                                            Entry{std::move(handler), execution});
}

Router::Match Router::Find(const std::string& method, const std::string& path) const {
  const auto by_path = routes_.find(path);
  if (by_path == routes_.end()) return {};
  const auto by_method = by_path->second.find(method);
  if (by_method == by_path->second.end()) return {};
  return Match{&by_method->second.handler, by_method->second.execution};
}

Response Router::NotFoundOrNotAllowed(const std::string& path) const {
  const auto by_path = routes_.find(path);
  if (by_path == routes_.end()) {
    return ErrorResponse(Error{ErrorCode::kNotFound, "no route"});
  }
  // RFC 9110 §15.5.6: a 405 MUST carry an Allow header listing the target's methods
  // (§10.2.1: a comma-separated list).
  std::vector<std::string_view> methods;
  methods.reserve(by_path->second.size());
  for (const auto& [method, entry] : by_path->second) methods.emplace_back(method);
  std::sort(methods.begin(), methods.end());
  std::string allow;
  for (const std::string_view method : methods) {
    if (!allow.empty()) allow += ", ";
    allow += method;
  }
  Response response = ErrorResponse(Error{ErrorCode::kMethodNotAllowed, "method not routed"});
  response.headers.Add("allow", std::move(allow));
  return response;
}

Response Router::Dispatch(const Request& request) const {
  const Match match = Find(request.method, request.path);
  if (match.handler == nullptr) return NotFoundOrNotAllowed(request.path);
  return (*match.handler)(request);
}

}  // namespace sessiond::http
