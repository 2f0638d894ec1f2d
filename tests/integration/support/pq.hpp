// Small RAII wrappers over libpq for tests.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <thread>
#include <string>
#include <vector>

namespace pgsoftdelete::test {

/// One PGresult, cleared when destroyed.
class Result {
 public:
  explicit Result(PGresult* r = nullptr) : r_(r, &PQclear) {}
  [[nodiscard]] PGresult* get() const { return r_.get(); }
  explicit operator bool() const { return r_ != nullptr; }
  [[nodiscard]] ExecStatusType status() const { return PQresultStatus(r_.get()); }
  [[nodiscard]] bool ok() const {
    return r_ && (status() == PGRES_COMMAND_OK || status() == PGRES_TUPLES_OK || status() == PGRES_SINGLE_TUPLE);
  }
  [[nodiscard]] int rows() const { return PQntuples(r_.get()); }
  [[nodiscard]] std::string value(int row = 0, int col = 0) const { return PQgetvalue(r_.get(), row, col); }
  [[nodiscard]] std::string tag() const { return PQcmdStatus(r_.get()); }
  [[nodiscard]] std::string sqlstate() const {
    const char* s = PQresultErrorField(r_.get(), PG_DIAG_SQLSTATE);
    return s ? s : "";
  }
  [[nodiscard]] std::string error() const { return PQresultErrorMessage(r_.get()); }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

/// One connection, finished when destroyed.
class Conn {
 public:
  explicit Conn(const std::string& conninfo) : c_(PQconnectdb(conninfo.c_str()), &PQfinish) {}
  [[nodiscard]] bool ok() const { return PQstatus(c_.get()) == CONNECTION_OK; }
  [[nodiscard]] std::string error() const { return PQerrorMessage(c_.get()); }
  [[nodiscard]] PGconn* get() const { return c_.get(); }
  Result exec(const std::string& sql) const { return Result(PQexec(c_.get(), sql.c_str())); }
  /// Extended protocol with text parameters.
  Result exec_params(const std::string& sql, const std::vector<std::string>& params) const {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    return Result(PQexecParams(c_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0));
  }
  /// The first column of the first row of a query that must succeed ("" otherwise).
  std::string scalar(const std::string& sql) const {
    auto r = exec(sql);
    return r.ok() && r.rows() > 0 ? r.value() : "";
  }
  [[nodiscard]] int backend_pid() const { return PQbackendPID(c_.get()); }
  /// Starts pg_sleep(30), sends a cancel request (as libpq does, on a connection of its own) after
  /// `after`, and returns the SQLSTATE the query ended with ("57014" when cancelled), or why the
  /// cancel could not be sent. The connection is ready for the next query afterwards.
  std::string cancel_long_query(std::chrono::milliseconds after = std::chrono::milliseconds(300)) const {
    if (PQsendQuery(c_.get(), "SELECT pg_sleep(30)") != 1) return "not sent";
    std::this_thread::sleep_for(after);
    PGcancel* cancel = PQgetCancel(c_.get());
    char err[256];
    const bool sent = PQcancel(cancel, err, sizeof err) == 1;
    PQfreeCancel(cancel);
    Result r(PQgetResult(c_.get()));
    while (PGresult* more = PQgetResult(c_.get())) PQclear(more);
    return sent ? r.sqlstate() : std::string("cancel not sent: ") + err;
  }

 private:
  std::unique_ptr<PGconn, void (*)(PGconn*)> c_;
};

}  // namespace pgsoftdelete::test
