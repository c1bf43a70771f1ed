#include "store/postgres/libpq_loader.h"

#include <dlfcn.h>
#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace sessiond::store::postgres_internal {
namespace {

constexpr const char* kSoname = "libpq.so.5";

struct Library {
  void* handle = nullptr;
  std::string error;  // dlerror()'s text when handle is null.
};

// dlopen()ed once per process (a function-local static: thread-safe), never closed: libpq keeps
// per-process state (OpenSSL initialisation, the notice processors of live connections).
const Library& Libpq() {
  static const Library library = [] {
    Library lib;
    // RTLD_LOCAL: libpq's symbols stay out of the global namespace, so they can never be
    // confused with the forwarders below, which carry the same names.
    lib.handle = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
    if (lib.handle == nullptr) {
      const char* why = dlerror();
      lib.error = why != nullptr ? why : "unknown dlopen error";
    }
    return lib;
  }();
  return library;
}

// The address of libpq's `name`. LoadLibpq() has succeeded before any forwarder can run (the
// store calls it before its first connection), so failing here is a broken invariant: abort
// with the reason rather than call through a null pointer.
void* Symbol(const char* name) {
  const Library& lib = Libpq();
  void* fn = lib.handle != nullptr ? dlsym(lib.handle, name) : nullptr;
  if (fn == nullptr) {
    (void)std::fprintf(stderr, "sessiond: %s: cannot resolve %s (%s)\n", kSoname, name,
                       lib.handle == nullptr ? lib.error.c_str() : "symbol missing");
    std::abort();
  }
  return fn;
}

}  // namespace

Result<void> LoadLibpq() {
  const Library& lib = Libpq();
  if (lib.handle != nullptr) return {};
  return Fail(ErrorCode::kServiceUnavailable, "postgres: cannot load " + std::string(kSoname) +
                                                  " (" + lib.error +
                                                  "); install the libpq5 package");
}

}  // namespace sessiond::store::postgres_internal

// One forwarder per libpq function sessiond calls, with libpq-fe.h's exact signature (the
// header's declarations make a mismatch a compile error). Each resolves its target once.
#define SESSIOND_LIBPQ(ret, name, params, args)                                                 \
  ret name params {                                                                             \
    static const auto target =                                                                  \
        reinterpret_cast<decltype(&::name)>(sessiond::store::postgres_internal::Symbol(#name)); \
    return target args;                                                                         \
  }

extern "C" {
SESSIOND_LIBPQ(PGconn*, PQconnectStartParams,
               (const char* const* keywords, const char* const* values, int expand_dbname),
               (keywords, values, expand_dbname))
SESSIOND_LIBPQ(PGconn*, PQconnectdb, (const char* conninfo), (conninfo))
SESSIOND_LIBPQ(PostgresPollingStatusType, PQconnectPoll, (PGconn * conn), (conn))
SESSIOND_LIBPQ(void, PQfinish, (PGconn * conn), (conn))
SESSIOND_LIBPQ(PQconninfoOption*, PQconninfoParse, (const char* conninfo, char** errmsg),
               (conninfo, errmsg))
SESSIOND_LIBPQ(void, PQconninfoFree, (PQconninfoOption * options), (options))
SESSIOND_LIBPQ(ConnStatusType, PQstatus, (const PGconn* conn), (conn))
SESSIOND_LIBPQ(PGTransactionStatusType, PQtransactionStatus, (const PGconn* conn), (conn))
SESSIOND_LIBPQ(char*, PQerrorMessage, (const PGconn* conn), (conn))
SESSIOND_LIBPQ(int, PQsocket, (const PGconn* conn), (conn))
SESSIOND_LIBPQ(int, PQbackendPID, (const PGconn* conn), (conn))
SESSIOND_LIBPQ(char*, PQdb, (const PGconn* conn), (conn))
SESSIOND_LIBPQ(char*, PQhost, (const PGconn* conn), (conn))
SESSIOND_LIBPQ(char*, PQport, (const PGconn* conn), (conn))
SESSIOND_LIBPQ(PQnoticeProcessor, PQsetNoticeProcessor,
               (PGconn * conn, PQnoticeProcessor proc, void* arg), (conn, proc, arg))
SESSIOND_LIBPQ(int, PQsetnonblocking, (PGconn * conn, int arg), (conn, arg))
SESSIOND_LIBPQ(int, PQflush, (PGconn * conn), (conn))
SESSIOND_LIBPQ(int, PQconsumeInput, (PGconn * conn), (conn))
SESSIOND_LIBPQ(int, PQisBusy, (PGconn * conn), (conn))
SESSIOND_LIBPQ(PGnotify*, PQnotifies, (PGconn * conn), (conn))
SESSIOND_LIBPQ(void, PQfreemem, (void* ptr), (ptr))
SESSIOND_LIBPQ(PGresult*, PQexec, (PGconn * conn, const char* query), (conn, query))
SESSIOND_LIBPQ(PGresult*, PQprepare,
               (PGconn * conn, const char* name, const char* query, int n_params,
                const Oid* param_types),
               (conn, name, query, n_params, param_types))
SESSIOND_LIBPQ(int, PQsendQuery, (PGconn * conn, const char* query), (conn, query))
SESSIOND_LIBPQ(int, PQsendPrepare,
               (PGconn * conn, const char* name, const char* query, int n_params,
                const Oid* param_types),
               (conn, name, query, n_params, param_types))
SESSIOND_LIBPQ(int, PQsendQueryParams,
               (PGconn * conn, const char* command, int n_params, const Oid* param_types,
                const char* const* param_values, const int* param_lengths, const int* param_formats,
                int result_format),
               (conn, command, n_params, param_types, param_values, param_lengths, param_formats,
                result_format))
SESSIOND_LIBPQ(int, PQsendQueryPrepared,
               (PGconn * conn, const char* name, int n_params, const char* const* param_values,
                const int* param_lengths, const int* param_formats, int result_format),
               (conn, name, n_params, param_values, param_lengths, param_formats, result_format))
SESSIOND_LIBPQ(PGresult*, PQgetResult, (PGconn * conn), (conn))
SESSIOND_LIBPQ(void, PQclear, (PGresult * res), (res))
SESSIOND_LIBPQ(ExecStatusType, PQresultStatus, (const PGresult* res), (res))
SESSIOND_LIBPQ(char*, PQresStatus, (ExecStatusType status), (status))
SESSIOND_LIBPQ(char*, PQresultErrorMessage, (const PGresult* res), (res))
SESSIOND_LIBPQ(char*, PQresultErrorField, (const PGresult* res, int field), (res, field))
SESSIOND_LIBPQ(int, PQntuples, (const PGresult* res), (res))
SESSIOND_LIBPQ(int, PQnfields, (const PGresult* res), (res))
SESSIOND_LIBPQ(char*, PQcmdTuples, (PGresult * res), (res))
SESSIOND_LIBPQ(char*, PQgetvalue, (const PGresult* res, int row, int column), (res, row, column))
SESSIOND_LIBPQ(int, PQgetlength, (const PGresult* res, int row, int column), (res, row, column))
SESSIOND_LIBPQ(int, PQgetisnull, (const PGresult* res, int row, int column), (res, row, column))
}

#undef SESSIOND_LIBPQ
