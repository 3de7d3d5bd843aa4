#include "tenants/sqlite_db.h"

#include <sqlite3.h>

#include <filesystem>
#include <limits>

#include "base/error.h"

namespace autarky::tenants {

SqliteDb::SqliteDb(std::string path, bool create) : path_(std::move(path)) {
  if (!create && !std::filesystem::exists(path_)) fail("{}: no such database file", path_);
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    fail("{}: cannot open database: {}", path_, message);
  }
  // Extended codes tell SQLITE_BUSY_SNAPSHOT from plain BUSY etc. in error messages.
  sqlite3_extended_result_codes(db_, 1);
}

SqliteDb::~SqliteDb() {
  // sqlite3_close_v2 defers the close until every statement is finalised; ours are RAII-scoped,
  // so by the time the connection goes away there are none.
  if (db_) sqlite3_close_v2(db_);
}

void SqliteDb::throw_error(std::string_view what, int code) const {
  std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
  fail("{}: {}: {} (SQLite code {})", path_, what, message, code);
}

void SqliteDb::exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string message = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    fail("{}: {} (SQLite code {}) while running: {}", path_, message, rc, sql.substr(0, 80));
  }
}

std::string SqliteDb::query_text(std::string_view sql) {
  SqliteStatement stmt(*this, sql);
  if (!stmt.step()) return {};
  return stmt.column_text(0);
}

std::int64_t SqliteDb::changes() const { return sqlite3_changes64(db_); }

SqliteStatement::SqliteStatement(SqliteDb& db, std::string_view sql) : db_(db) {
  AUTARKY_ASSERT(sql.size() < static_cast<std::size_t>(std::numeric_limits<int>::max()));
  int rc = sqlite3_prepare_v2(db_.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) db_.throw_error(fmt::format("preparing \"{}\"", sql.substr(0, 60)), rc);
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

SqliteStatement& SqliteStatement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) db_.throw_error("binding an integer", rc);
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_.throw_error("binding text", rc);
  return *this;
}

SqliteStatement& SqliteStatement::bind_blob(int index, const std::vector<std::uint8_t>& bytes) {
  int rc = sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_.throw_error("binding a blob", rc);
  return *this;
}

SqliteStatement& SqliteStatement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) db_.throw_error("binding NULL", rc);
  return *this;
}

bool SqliteStatement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.throw_error(fmt::format("running \"{}\"", std::string_view(sqlite3_sql(stmt_)).substr(0, 60)), rc);
}

bool SqliteStatement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::int64_t SqliteStatement::column_int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string SqliteStatement::column_text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (!text) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::vector<std::uint8_t> SqliteStatement::column_blob(int column) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column));
  if (!data) return {};
  return {data, data + size};
}

std::optional<std::int64_t> SqliteStatement::column_optional_int(int column) const {
  if (is_null(column)) return std::nullopt;
  return column_int(column);
}

SqliteTransaction::SqliteTransaction(SqliteDb& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

SqliteTransaction::~SqliteTransaction() {
  if (done_) return;
  // A failed COMMIT may already have rolled back; ROLLBACK then fails harmlessly.
  sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteTransaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace autarky::tenants
