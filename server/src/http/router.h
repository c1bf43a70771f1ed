// Maps (method, path) to a handler. Exact paths only: sessiond's routes have no parameters.
// Unknown path → 404 NOT_FOUND; known path, other method → 405 with an Allow header.
//
// Thread-safety: build the table before the server starts; Dispatch is then safe to call from
// any thread concurrently.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/message.h"

namespace sessiond::http {

using Handler = std::function<Response(const Request&)>;

// How the server runs a handler.
enum class Execution {
  kInline,   // On the I/O thread: fast handlers (microseconds), e.g. get-session.
  kBlocking  // On the worker pool: handlers that hash passwords or otherwise take milliseconds.
};

class Router {
 public:
  void Add(std::string method, std::string path, Handler handler,
           Execution execution = Execution::kInline);

  struct Match {
    const Handler* handler = nullptr;  // Null when no route matched.
    Execution execution = Execution::kInline;
  };
  // The route for the request, or null handler (then use NotFoundOrNotAllowed).
  [[nodiscard]] Match Find(const std::string& method, const std::string& path) const;

  // The 404 or 405 response for a request Find did not match.
  [[nodiscard]] Response NotFoundOrNotAllowed(const std::string& path) const;

  // Runs the matched handler, or produces the 404/405.
  [[nodiscard]] Response Dispatch(const Request& request) const;

 private:
  struct Entry {
    Handler handler;
    Execution execution;
  };
  // path → method → entry.
  std::unordered_map<std::string, std::unordered_map<std::string, Entry>> routes_;
};

}  // namespace sessiond::http
