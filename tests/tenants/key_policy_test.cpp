// Per-key label/watermark policies in the ledger: validation, storage and change, and the
// migration that gives a ledger made by the previous schema (version 1) its policy columns
// without losing keys or usage.

#include <gtest/gtest.h>

#include "base/error.h"
#include "tenants/api_key.h"
#include "tenants/ledger.h"
#include "tenants/ledger_schema.h"
#include "tenants/sqlite_db.h"
#include "test_support.h"

namespace autarky::tenants {
namespace {

std::vector<std::string> key_columns(SqliteDb& db) {
  SqliteStatement stmt(db, "SELECT name FROM pragma_table_info('api_keys') ORDER BY cid");
  std::vector<std::string> names;
  while (stmt.step()) names.push_back(stmt.column_text(0));
  return names;
}

bool has_column(SqliteDb& db, const std::string& name) {
  auto names = key_columns(db);
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(KeyPolicy, ValidatesValuesAndSummarises) {
  KeyPolicy p;
  EXPECT_TRUE(p.inherits_everything());
  EXPECT_EQ(p.summary(), "-");
  EXPECT_NO_THROW(p.validate());
  p.label = "end";
  p.label_language = "zh";
  p.watermark = false;
  EXPECT_FALSE(p.inherits_everything());
  EXPECT_EQ(p.summary(), "label=end,lang=zh,watermark=off");
  EXPECT_EQ(p.to_json()["label_text"], nullptr);
  EXPECT_EQ(p.to_json()["watermark"], false);

  KeyPolicy bad_label;
  bad_label.label = "middle";
  EXPECT_THROW(bad_label.validate(), Error);
  KeyPolicy bad_lang;
  bad_lang.label_language = "fr";
  EXPECT_THROW(bad_lang.validate(), Error);
  KeyPolicy empty_text;
  empty_text.label_text = "";
  EXPECT_THROW(empty_text.validate(), Error);
  EXPECT_TRUE(parse_on_off("--x", "on"));
  EXPECT_FALSE(parse_on_off("--x", "off"));
  EXPECT_THROW(parse_on_off("--x", "yes"), Error);
}

TEST(KeyPolicy, StoredWithTheKeyAndChangedLater) {
  test::TempDir dir;
  const std::string path = (dir / "ledger.db").string();
  KeyPolicy chinese_end;
  chinese_end.label = "end";
  chinese_end.label_language = "zh";
  chinese_end.watermark = true;
  std::string secret, id, plain_id;
  {
    Ledger ledger(path, OpenMode::kCreateIfMissing);
    NewKey created = ledger.create_key("tenant", {}, Clock::now(), chinese_end);
    secret = created.secret;
    id = created.key.id;
    EXPECT_EQ(created.key.policy, chinese_end);
    plain_id = ledger.create_key("plain", {}, Clock::now()).key.id;

    KeyPolicy invalid;
    invalid.label = "sideways";
    EXPECT_THROW(ledger.create_key("bad", {}, Clock::now(), invalid), Error);
    EXPECT_THROW(ledger.set_key_policy(id, invalid), Error);
    EXPECT_THROW(ledger.set_key_policy("0123456789ab", chinese_end), Error);
    EXPECT_EQ(ledger.list_keys().size(), 2u);  // the invalid key was not created
  }
  Ledger reopened(path, OpenMode::kMustExist);
  auto found = reopened.authenticate(secret);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->policy, chinese_end);  // the server sees the policy with the key
  EXPECT_TRUE(reopened.find_key(plain_id)->policy.inherits_everything());

  KeyPolicy off;
  off.label = "off";
  off.label_text = "machine text";
  off.watermark = false;
  KeyInfo updated = reopened.set_key_policy(id, off);
  EXPECT_EQ(updated.policy, off);
  EXPECT_EQ(reopened.authenticate(secret)->policy, off);
  EXPECT_EQ(reopened.set_key_policy(id, {}).policy, KeyPolicy{});  // back to inheriting everything
}

TEST(LedgerMigration, VersionOneLedgerGetsPolicyColumnsAndKeepsItsKeysAndUsage) {
  test::TempDir dir;
  const std::string path = (dir / "old.db").string();
  GeneratedSecret old_key = generate_secret();
  {
    // Exactly what the previous autarky (schema version 1) made, with one key and one request.
    SqliteDb db(path, true);
    db.exec("PRAGMA journal_mode = WAL");
    migrate_ledger(db, 1700000000, /*target_version=*/1);
    EXPECT_EQ(read_schema_version(db), 1);
    EXPECT_FALSE(has_column(db, "label_mode"));
    SqliteStatement insert(db, "INSERT INTO api_keys (id, name, secret_sha256, created_at) VALUES (?1, 'old', ?2, 1)");
    insert.bind(1, old_key.key_id).bind_blob(2, old_key.secret_sha256).run();
  }
  {
    Ledger ledger(path, OpenMode::kMustExist);
    EXPECT_EQ(ledger.schema_version(), latest_schema_version());
    EXPECT_GE(latest_schema_version(), 2);
    auto key = ledger.authenticate(old_key.secret);
    ASSERT_TRUE(key);
    EXPECT_EQ(key->name, "old");
    EXPECT_TRUE(key->policy.inherits_everything());  // old keys keep the server's behaviour
    EXPECT_TRUE(ledger.record_usage({key->id, "req-1", 3, 4, Clock::now()}));
    KeyPolicy end;
    end.label = "end";
    ledger.set_key_policy(key->id, end);
    EXPECT_EQ(ledger.integrity_check(), "ok");
  }
  SqliteDb db(path, false);
  for (const char* column : {"label_mode", "label_language", "label_text", "watermark"})
    EXPECT_TRUE(has_column(db, column)) << column;
  // The columns' CHECK constraints hold for writers other than the Ledger class too.
  EXPECT_THROW(db.exec("UPDATE api_keys SET label_mode = 'middle'"), Error);
  EXPECT_THROW(db.exec("UPDATE api_keys SET watermark = 2"), Error);
  // Opening again is a no-op: the migration ran once.
  SqliteStatement versions(db, "SELECT count(*) FROM schema_version");
  ASSERT_TRUE(versions.step());
  EXPECT_EQ(versions.column_int(0), latest_schema_version());
  Ledger again(path, OpenMode::kMustExist);
  EXPECT_EQ(again.authenticate(old_key.secret)->policy.label, "end");
  EXPECT_EQ(again.usage(old_key.key_id, Clock::now()).all_time.tokens(), 7u);
}

}  // namespace
}  // namespace autarky::tenants
