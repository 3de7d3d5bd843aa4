#pragma once
// A small RAII layer over SQLite's C API for the tenant ledger: one connection (SqliteDb), one
// prepared statement (SqliteStatement), one transaction (SqliteTransaction). Every SQLite error
// becomes an autarky::Error that names the database file and carries SQLite's own message, so
// "file is not a database" or "database disk image is malformed" reach the operator as such.
//
// A connection is not thread-safe by itself: its owner serialises access (see tenants/ledger.h).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace autarky::tenants {

class SqliteDb {
 public:
  // Opens `path` read-write; with `create` false a missing file is an error (SQLite would
  // otherwise create an empty database and hide a typo in --db).
  SqliteDb(std::string path, bool create);
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  // Runs one or more statements without results (schema, pragmas).
  void exec(std::string_view sql);
  // Runs a pragma / query that yields a single text or integer value.
  std::string query_text(std::string_view sql);
  std::int64_t changes() const;

  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }
  // Throws autarky::Error "<path>: <what>: <sqlite message>" for the connection's last error.
  [[noreturn]] void throw_error(std::string_view what, int code) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

class SqliteStatement {
 public:
  SqliteStatement(SqliteDb& db, std::string_view sql);
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Parameters are 1-based, as in SQL's ?1, ?2...
  SqliteStatement& bind(int index, std::int64_t value);
  SqliteStatement& bind(int index, std::string_view text);
  SqliteStatement& bind_blob(int index, const std::vector<std::uint8_t>& bytes);
  SqliteStatement& bind_null(int index);

  // Advances to the next row; false when the statement is done.
  bool step();
  // Runs a statement that returns no rows.
  void run() {
    while (step()) {
    }
  }

  bool is_null(int column) const;
  std::int64_t column_int(int column) const;
  std::string column_text(int column) const;
  std::vector<std::uint8_t> column_blob(int column) const;
  std::optional<std::int64_t> column_optional_int(int column) const;

 private:
  SqliteDb& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back if destroyed before commit() (an exception). IMMEDIATE
// takes the write lock up front, so two writers wait on busy_timeout instead of deadlocking on a
// read-to-write upgrade.
class SqliteTransaction {
 public:
  explicit SqliteTransaction(SqliteDb& db);
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  ~SqliteTransaction();
  void commit();

 private:
  SqliteDb& db_;
  bool done_ = false;
};

}  // namespace autarky::tenants
