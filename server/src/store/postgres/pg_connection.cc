#include "store/postgres/pg_connection.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <utility>

#include "store/postgres/libpq_loader.h"

namespace sessiond::store::postgres_internal {
namespace {

using std::chrono::milliseconds;

// libpq's messages end in a newline and may span lines ("connection to server ... failed:
// Connection refused\n\tIs the server running..."): one log line is easier to read.
std::string OneLine(const char* message) {
  std::string out = message != nullptr ? message : "";
  std::ranges::replace(out, '\n', ' ');
  std::ranges::replace(out, '\t', ' ');
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Notices (e.g. "relation ... already exists, skipping" from CREATE ... IF NOT EXISTS) would go
// to stderr through libpq's default processor; they belong in the debug log.
void LogNotice(void* /*arg*/, const char* message) {
  spdlog::debug("postgres: notice: {}", OneLine(message));
}

std::string StatementName(std::size_t slot) { return "s" + std::to_string(slot); }

}  // namespace

bool IsUnavailableSqlState(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return false;
  const std::string_view cls = sqlstate.substr(0, 2);
  return cls == "08" || cls == "53" || cls == "57" || cls == "58" || sqlstate == "40001" ||
         sqlstate == "40P01" || sqlstate == "55P03";
}

// --- Params --------------------------------------------------------------------------------------

Params& Params::Add(std::string value) {
  if (value.find('\0') != std::string::npos) has_nul_ = true;
  values_.emplace_back(std::move(value));
  return *this;
}

Params& Params::Text(std::string_view value) { return Add(std::string(value)); }

Params& Params::NullableText(const std::optional<std::string>& value) {
  if (!value.has_value()) return Null();
  return Text(*value);
}

Params& Params::Null() {
  values_.emplace_back(std::nullopt);
  return *this;
}

Params& Params::TextArray(std::span<const std::string> values) {
  // Array input syntax: double-quoted elements, with \ and " escaped by a backslash.
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal.push_back(',');
    literal.push_back('"');
    for (char c : values[i]) {
      if (c == '"' || c == '\\') literal.push_back('\\');
      literal.push_back(c);
    }
    literal.push_back('"');
  }
  literal.push_back('}');
  return Add(std::move(literal));
}

const char* const* Params::Pointers() {
  pointers_.clear();
  pointers_.reserve(values_.size());
  for (const std::optional<std::string>& value : values_) {
    pointers_.push_back(value.has_value() ? value->c_str() : nullptr);
  }
  return pointers_.data();
}

// --- Columns -------------------------------------------------------------------------------------

std::string ColumnText(const PGresult* result, int row, int col) {
  if (PQgetisnull(result, row, col) != 0) return {};
  return std::string(PQgetvalue(result, row, col),
                     static_cast<std::size_t>(PQgetlength(result, row, col)));
}

std::optional<std::string> ColumnNullableText(const PGresult* result, int row, int col) {
  if (PQgetisnull(result, row, col) != 0) return std::nullopt;
  return ColumnText(result, row, col);
}

std::int64_t ColumnInt64(const PGresult* result, int row, int col) {
  if (PQgetisnull(result, row, col) != 0) return 0;
  const char* text = PQgetvalue(result, row, col);
  const char* end = text + PQgetlength(result, row, col);
  std::int64_t value = 0;
  (void)std::from_chars(text, end, value);  // BIGINT columns: always a valid integer.
  return value;
}

bool ColumnBool(const PGresult* result, int row, int col) {
  if (PQgetisnull(result, row, col) != 0) return false;
  return PQgetvalue(result, row, col)[0] == 't';
}

std::int64_t AffectedRows(const PGresult* result) {
  // PQcmdTuples takes a non-const PGresult* for historical reasons; it only reads.
  const char* text = PQcmdTuples(const_cast<PGresult*>(result));
  std::int64_t value = 0;
  (void)std::from_chars(text, text + std::strlen(text), value);
  return value;
}

// --- Connection ----------------------------------------------------------------------------------

Connection::Connection(PGconn* conn, milliseconds statement_timeout, std::size_t statement_slots)
    : conn_(conn), statement_timeout_(statement_timeout), prepared_(statement_slots, false) {}

Connection::~Connection() { PQfinish(conn_); }

Result<std::unique_ptr<Connection>> Connection::Open(const ConnectOptions& options,
                                                     std::size_t statement_slots) {
  if (auto loaded = LoadLibpq(); !loaded) return std::unexpected(std::move(loaded.error()));
  const SteadyTime deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  // Later keywords override earlier ones, and "dbname" is expanded into the URL's parameters:
  // what comes before it are defaults the URL may override. TCP keepalives make a peer that
  // vanished without a FIN (host down, partition) detectable on idle connections too.
  static constexpr const char* kKeywords[] = {"keepalives",
                                              "keepalives_idle",
                                              "keepalives_interval",
                                              "keepalives_count",
                                              "fallback_application_name",
                                              "dbname",
                                              nullptr};
  const char* const values[] = {"1", "30", "10", "3", "sessiond", options.url.c_str(), nullptr};
  PGconn* raw = PQconnectStartParams(kKeywords, values, /*expand_dbname=*/1);
  if (raw == nullptr) return Fail(ErrorCode::kServiceUnavailable, "postgres: connect: no memory");
  std::unique_ptr<Connection> connection(
      new Connection(raw, options.statement_timeout, statement_slots));
  if (PQstatus(raw) == CONNECTION_BAD) {
    return Fail(ErrorCode::kServiceUnavailable,
                "postgres: connect: " + OneLine(PQerrorMessage(raw)));
  }
  PQsetNoticeProcessor(raw, &LogNotice, nullptr);

  // The PQconnectPoll loop (libpq docs, "Connecting to the server"): before the first call,
  // behave as if it had returned PGRES_POLLING_WRITING. The socket may change between calls
  // (several hosts, SSL fallback), so PQsocket is read anew each round (in WaitSocket).
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) {
      return Fail(ErrorCode::kServiceUnavailable,
                  "postgres: connect: " + OneLine(PQerrorMessage(raw)));
    }
    auto ready = connection->WaitSocket(status == PGRES_POLLING_READING ? POLLIN : POLLOUT,
                                        deadline, "connect");
    if (!ready) {
      return Fail(ErrorCode::kServiceUnavailable,
                  "postgres: connect: no answer within " +
                      std::to_string(options.connect_timeout.count()) + " ms");
    }
    status = PQconnectPoll(raw);
  }
  if (PQsetnonblocking(raw, 1) != 0) {
    return Fail(
        ErrorCode::kServiceUnavailable,
        "postgres: connect: cannot switch to non-blocking mode: " + OneLine(PQerrorMessage(raw)));
  }
  // A server-side bound on every statement (lock waits included): the server cancels and the
  // connection stays usable. SET takes no parameters; the value is our own integer.
  const std::string set_timeout =
      "SET statement_timeout = " + std::to_string(options.statement_timeout.count());
  auto configured = connection->RunSimple(set_timeout.c_str(), "configure session",
                                          connection->StatementDeadline());
  if (!configured) return std::unexpected(configured.error());
  return connection;
}

bool Connection::LooksAlive() {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    return false;
  }
  pollfd fd{.fd = PQsocket(conn_), .events = POLLIN, .revents = 0};
  if (fd.fd < 0) return false;
  int ready = 0;
  do {
    ready = poll(&fd, 1, 0);
  } while (ready < 0 && errno == EINTR);
  return ready == 0;
}

std::string Connection::Describe() const {
  const char* host = PQhost(conn_);
  const char* port = PQport(conn_);
  const char* db = PQdb(conn_);
  return std::string(host != nullptr ? host : "?") + ":" + (port != nullptr ? port : "?") + "/" +
         (db != nullptr ? db : "?");
}

SteadyTime Connection::StatementDeadline() const {
  return std::chrono::steady_clock::now() + statement_timeout_ + kClientGrace;
}

Error Connection::ConnectionError(std::string_view what) {
  broken_ = true;
  lost_ = true;
  std::string detail = "postgres: ";
  detail.append(what).append(": connection failed: ").append(OneLine(PQerrorMessage(conn_)));
  return Error{ErrorCode::kServiceUnavailable, std::move(detail)};
}

Result<short> Connection::WaitSocket(short events, Deadline deadline, std::string_view what) {
  for (;;) {
    const int fd = PQsocket(conn_);
    if (fd < 0) return std::unexpected(ConnectionError(what));
    int timeout_ms = -1;
    if (deadline.has_value()) {
      const auto left =
          std::chrono::ceil<milliseconds>(*deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        // The statement may still be running or its answer half read: the connection is out of
        // step with the server and cannot be reused.
        broken_ = true;
        return Fail(ErrorCode::kServiceUnavailable,
                    "postgres: " + std::string(what) + ": no answer from the server in time");
      }
      timeout_ms = static_cast<int>(std::min<std::int64_t>(left.count(), INT_MAX));
    }
    pollfd pfd{.fd = fd, .events = events, .revents = 0};
    const int ready = poll(&pfd, 1, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      broken_ = true;
      return Fail(ErrorCode::kServiceUnavailable,
                  "postgres: " + std::string(what) + ": poll: " + std::strerror(errno));
    }
    if (ready > 0) return pfd.revents;  // POLLHUP / POLLERR too: libpq's next read reports it.
  }
}

Result<ResultHandle> Connection::Collect(std::string_view what, Deadline deadline,
                                         SqlFailure* failure) {
  // Non-blocking mode: PQflush until everything is sent. While waiting to write, the server may
  // need us to read (it can send before it has read everything), hence POLLIN too.
  for (;;) {
    const int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0) return std::unexpected(ConnectionError(what));
    auto ready = WaitSocket(POLLIN | POLLOUT, deadline, what);
    if (!ready) return std::unexpected(ready.error());
    if ((*ready & (POLLIN | POLLHUP | POLLERR)) != 0 && PQconsumeInput(conn_) == 0) {
      return std::unexpected(ConnectionError(what));
    }
  }

  ResultHandle first_error;
  ResultHandle last;
  for (;;) {
    while (PQisBusy(conn_) != 0) {
      auto ready = WaitSocket(POLLIN, deadline, what);
      if (!ready) return std::unexpected(ready.error());
      if (PQconsumeInput(conn_) == 0) return std::unexpected(ConnectionError(what));
    }
    PGresult* raw = PQgetResult(conn_);
    if (raw == nullptr) break;
    ResultHandle result(raw);
    switch (PQresultStatus(raw)) {
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK:
      case PGRES_EMPTY_QUERY:
        last = std::move(result);
        break;
      case PGRES_FATAL_ERROR:
      case PGRES_NONFATAL_ERROR:
      case PGRES_BAD_RESPONSE:
        if (first_error == nullptr) first_error = std::move(result);
        break;
      default:  // COPY, single-row or pipeline states: never requested, so out of step.
        broken_ = true;
        return Fail(ErrorCode::kInternal, "postgres: " + std::string(what) +
                                              ": unexpected result status " +
                                              PQresStatus(PQresultStatus(raw)));
    }
  }

  if (PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    lost_ = true;
    const char* message =
        first_error != nullptr ? PQresultErrorMessage(first_error.get()) : PQerrorMessage(conn_);
    return Fail(ErrorCode::kServiceUnavailable,
                "postgres: " + std::string(what) + ": connection lost: " + OneLine(message));
  }
  if (first_error != nullptr) {
    const char* sqlstate = PQresultErrorField(first_error.get(), PG_DIAG_SQLSTATE);
    const char* constraint = PQresultErrorField(first_error.get(), PG_DIAG_CONSTRAINT_NAME);
    // The primary message only: DETAIL may quote the offending values ("Key (token_hash)=(...)
    // already exists"), and error details must never carry a token hash or an email.
    const char* primary = PQresultErrorField(first_error.get(), PG_DIAG_MESSAGE_PRIMARY);
    if (failure != nullptr) {
      failure->sqlstate = sqlstate != nullptr ? sqlstate : "";
      failure->constraint = constraint != nullptr ? constraint : "";
    }
    std::string detail = "postgres: ";
    detail.append(what).append(": ");
    if (sqlstate == nullptr) {
      // Reported by libpq itself, not the server: the session state is unknown.
      broken_ = true;
      detail.append(OneLine(PQresultErrorMessage(first_error.get())));
      return Fail(ErrorCode::kServiceUnavailable, std::move(detail));
    }
    detail.append(OneLine(primary)).append(" (SQLSTATE ").append(sqlstate).append(")");
    return Fail(
        IsUnavailableSqlState(sqlstate) ? ErrorCode::kServiceUnavailable : ErrorCode::kInternal,
        std::move(detail));
  }
  if (last == nullptr) {
    broken_ = true;
    return Fail(ErrorCode::kInternal, "postgres: " + std::string(what) + ": no result");
  }
  return last;
}

Result<ResultHandle> Connection::RunPrepared(std::size_t slot, const char* sql, Params& params,
                                             std::string_view what, SqlFailure* failure) {
  if (params.has_nul()) {
    return Fail(ErrorCode::kValidation,
                "postgres: " + std::string(what) + ": text contains a NUL character");
  }
  if (broken_) return Fail(ErrorCode::kServiceUnavailable, "postgres: connection is broken");
  const std::string name = StatementName(slot);
  if (!prepared_.at(slot)) {
    // Parameter types are inferred from the statement (nParams = 0).
    if (PQsendPrepare(conn_, name.c_str(), sql, 0, nullptr) == 0) {
      return std::unexpected(ConnectionError(what));
    }
    auto prepared = Collect(what, StatementDeadline(), failure);
    if (!prepared) return std::unexpected(prepared.error());
    prepared_[slot] = true;
  }
  if (PQsendQueryPrepared(conn_, name.c_str(), params.size(), params.Pointers(), nullptr, nullptr,
                          /*resultFormat=*/0) == 0) {
    return std::unexpected(ConnectionError(what));
  }
  return Collect(what, StatementDeadline(), failure);
}

Result<ResultHandle> Connection::RunSimple(const char* sql, std::string_view what,
                                           Deadline deadline) {
  if (broken_) return Fail(ErrorCode::kServiceUnavailable, "postgres: connection is broken");
  if (PQsendQuery(conn_, sql) == 0) return std::unexpected(ConnectionError(what));
  return Collect(what, deadline, nullptr);
}

Result<ResultHandle> Connection::RunParams(const char* sql, Params& params, std::string_view what,
                                           Deadline deadline) {
  if (params.has_nul()) {
    return Fail(ErrorCode::kValidation,
                "postgres: " + std::string(what) + ": text contains a NUL character");
  }
  if (broken_) return Fail(ErrorCode::kServiceUnavailable, "postgres: connection is broken");
  if (PQsendQueryParams(conn_, sql, params.size(), nullptr, params.Pointers(), nullptr, nullptr,
                        /*resultFormat=*/0) == 0) {
    return std::unexpected(ConnectionError(what));
  }
  return Collect(what, deadline, nullptr);
}

}  // namespace sessiond::store::postgres_internal
