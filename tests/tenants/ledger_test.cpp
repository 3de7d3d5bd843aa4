// The ledger's keys and usage records: authentication, revocation, what is (not) stored,
// persistence, idempotent recording, bad database files.

#include <algorithm>
#include <filesystem>

#include "base/error.h"
#include "compliance/crypto.h"
#include "tenants/api_key.h"
#include "tenants/ledger.h"
#include "tenants/ledger_schema.h"
#include "tenants/sqlite_db.h"
#include "test_support.h"

namespace autarky::tenants {
namespace {

TimePoint at_day(std::chrono::year_month_day date, std::chrono::seconds time_of_day = {}) {
  return TimePoint(std::chrono::sys_days(date)) + time_of_day;
}

std::string db_path(const test::TempDir& dir) { return (dir / "ledger.db").string(); }

bool contains(const std::vector<std::uint8_t>& haystack, std::span<const std::uint8_t> needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

TEST(ApiKey, SecretFormatCarriesTheKeyIdAndRejectsGarbage) {
  GeneratedSecret a = generate_secret();
  GeneratedSecret b = generate_secret();
  EXPECT_NE(a.secret, b.secret);
  EXPECT_TRUE(a.secret.starts_with("ak-"));
  EXPECT_EQ(a.secret.size(), 3u + 12 + 1 + 64);  // 256 random bits as 64 hex digits
  EXPECT_EQ(key_id_of_secret(a.secret), a.key_id);
  EXPECT_TRUE(is_key_id(a.key_id));
  EXPECT_EQ(a.secret_sha256, hash_secret(a.secret));
  EXPECT_EQ(a.secret_sha256.size(), 32u);

  std::string upper = a.secret;
  upper[20] = 'G';
  EXPECT_FALSE(key_id_of_secret(upper));
  EXPECT_FALSE(key_id_of_secret(a.secret.substr(1)));
  EXPECT_FALSE(key_id_of_secret("sk-" + a.secret.substr(3)));
  EXPECT_FALSE(key_id_of_secret(a.secret + "0"));
  EXPECT_FALSE(key_id_of_secret(""));
}

TEST(Ledger, CreateAuthenticateRevoke) {
  test::TempDir dir;
  Ledger ledger(db_path(dir), OpenMode::kCreateIfMissing);
  KeyLimits limits{.tokens_per_day = 10, .tokens_per_month = 20, .requests_per_minute = 3, .max_concurrent = 2};
  NewKey alice = ledger.create_key("alice", limits, Clock::now());
  NewKey bob = ledger.create_key("bob", {}, Clock::now());
  EXPECT_NE(alice.key.id, bob.key.id);

  auto found = ledger.authenticate(alice.secret);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, alice.key.id);
  EXPECT_EQ(found->name, "alice");
  EXPECT_EQ(found->limits.tokens_per_day, 10u);
  EXPECT_EQ(found->limits.tokens_per_month, 20u);
  EXPECT_EQ(found->limits.requests_per_minute, 3u);
  EXPECT_EQ(found->limits.max_concurrent, 2u);
  EXPECT_FALSE(found->revoked());

  // Alice's id with other random digits: the id exists, the hash does not match.
  std::string forged = alice.secret;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_FALSE(ledger.authenticate(forged));
  // Bob's random part under Alice's id.
  EXPECT_FALSE(ledger.authenticate("ak-" + alice.key.id + bob.secret.substr(3 + 12)));
  EXPECT_FALSE(ledger.authenticate(""));
  EXPECT_FALSE(ledger.authenticate("Bearer " + alice.secret));
  EXPECT_FALSE(ledger.authenticate("ak-000000000000-" + std::string(64, 'a')));  // unknown id

  EXPECT_EQ(ledger.count_active_keys(), 2u);
  EXPECT_TRUE(ledger.revoke_key(alice.key.id, Clock::now()));
  EXPECT_FALSE(ledger.authenticate(alice.secret));
  EXPECT_TRUE(ledger.authenticate(bob.secret));
  EXPECT_FALSE(ledger.revoke_key(alice.key.id, Clock::now()));  // already revoked
  // A request admitted just before the revocation still ends and is billed.
  EXPECT_TRUE(ledger.record_usage({alice.key.id, "late-request", 3, 4, Clock::now()}));
  EXPECT_EQ(ledger.usage(alice.key.id, Clock::now()).all_time.tokens(), 7u);
  EXPECT_THROW(ledger.revoke_key("000000000000", Clock::now()), Error);
  EXPECT_EQ(ledger.count_active_keys(), 1u);

  auto keys = ledger.list_keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].id, alice.key.id);
  EXPECT_TRUE(keys[0].revoked());
  EXPECT_FALSE(keys[1].revoked());
  EXPECT_THROW(ledger.create_key("", {}, Clock::now()), Error);
}

TEST(Ledger, StoresOnlyHashesOfSecrets) {
  test::TempDir dir;
  std::vector<NewKey> keys;
  {
    Ledger ledger(db_path(dir), OpenMode::kCreateIfMissing);
    for (int i = 0; i < 5; ++i) keys.push_back(ledger.create_key("tenant" + std::to_string(i), {}, Clock::now()));
    // Read the files while the connection is open too: then the rows may still be in the WAL.
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      auto bytes = test::read_bytes(entry.path());
      for (const NewKey& key : keys) {
        EXPECT_FALSE(contains(bytes, compliance::as_bytes(key.secret))) << entry.path();
        EXPECT_FALSE(contains(bytes, compliance::as_bytes(key.secret.substr(3 + 12 + 1)))) << entry.path();
      }
    }
  }
  std::vector<std::uint8_t> all_files;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    auto bytes = test::read_bytes(entry.path());
    all_files.insert(all_files.end(), bytes.begin(), bytes.end());
  }
  ASSERT_FALSE(all_files.empty());
  for (const NewKey& key : keys) {
    EXPECT_FALSE(contains(all_files, compliance::as_bytes(key.secret)));
    EXPECT_FALSE(contains(all_files, compliance::as_bytes(key.secret.substr(3 + 12 + 1))));
    // What is there instead: the SHA-256 of the secret (and the public id).
    EXPECT_TRUE(contains(all_files, hash_secret(key.secret)));
    EXPECT_TRUE(contains(all_files, compliance::as_bytes(key.key.id)));
  }
}

TEST(Ledger, UsagePersistsAcrossReopenAndRecordingIsIdempotent) {
  test::TempDir dir;
  using namespace std::chrono;
  TimePoint t = at_day(2026y / March / 14, hours(9));
  std::string secret, id;
  {
    Ledger ledger(db_path(dir), OpenMode::kCreateIfMissing);
    NewKey key = ledger.create_key("alice", {.tokens_per_day = 500}, t);
    secret = key.secret;
    id = key.key.id;
    EXPECT_TRUE(ledger.record_usage({id, "req-1", 10, 20, t}));
    EXPECT_TRUE(ledger.record_usage({id, "req-2", 1, 2, t + hours(1)}));
    EXPECT_TRUE(ledger.record_usage({id, "req-3", 100, 200, t - days(1)}));  // yesterday, same month
    EXPECT_TRUE(ledger.record_usage({id, "req-4", 1000, 0, t - days(20)}));  // February
    EXPECT_FALSE(ledger.record_usage({id, "req-1", 999, 999, t}));          // retried record: no double billing
    EXPECT_THROW(ledger.record_usage({"000000000000", "req-9", 1, 1, t}), Error);
    EXPECT_THROW(ledger.record_usage({id, "", 1, 1, t}), Error);
  }
  Ledger reopened(db_path(dir), OpenMode::kMustExist);
  EXPECT_EQ(reopened.schema_version(), latest_schema_version());
  EXPECT_EQ(reopened.integrity_check(), "ok");
  auto key = reopened.authenticate(secret);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->limits.tokens_per_day, 500u);
  KeyUsage usage = reopened.usage(id, t);
  EXPECT_EQ(usage.today.requests, 2u);
  EXPECT_EQ(usage.today.prompt_tokens, 11u);
  EXPECT_EQ(usage.today.completion_tokens, 22u);
  EXPECT_EQ(usage.this_month.tokens(), 33u + 300u);
  EXPECT_EQ(usage.this_month.requests, 3u);
  EXPECT_EQ(usage.all_time.tokens(), 33u + 300u + 1000u);
  EXPECT_EQ(usage.all_time.requests, 4u);
}

TEST(Ledger, RefusesMissingForeignAndCorruptFiles) {
  test::TempDir dir;
  auto message_of = [](const std::string& path, OpenMode mode) {
    try {
      Ledger ledger(path, mode);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(opened)");
  };
  std::string missing = (dir / "missing.db").string();
  EXPECT_NE(message_of(missing, OpenMode::kMustExist).find("no such database file"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(missing));

  std::string text = (dir / "notes.txt").string();
  test::write_bytes(text, std::vector<std::uint8_t>(5000, 'x'));
  std::string m = message_of(text, OpenMode::kCreateIfMissing);
  EXPECT_NE(m.find(text), std::string::npos) << m;
  EXPECT_NE(m.find("not a database"), std::string::npos) << m;

  // A healthy SQLite database of some other application is not adopted as a ledger.
  std::string other = (dir / "other.db").string();
  {
    SqliteDb db(other, true);
    db.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)");
  }
  m = message_of(other, OpenMode::kCreateIfMissing);
  EXPECT_NE(m.find("not an autarky ledger"), std::string::npos) << m;

  // A ledger whose schema page is overwritten with garbage.
  std::string corrupt = (dir / "corrupt.db").string();
  { Ledger ledger(corrupt, OpenMode::kCreateIfMissing); }
  auto bytes = test::read_bytes(corrupt);
  ASSERT_GE(bytes.size(), 4096u);
  for (std::size_t i = 100; i < 4096; ++i) bytes[i] = static_cast<std::uint8_t>(i * 37 + 11);
  test::write_bytes(corrupt, bytes);
  m = message_of(corrupt, OpenMode::kMustExist);
  EXPECT_NE(m.find(corrupt), std::string::npos) << m;
  EXPECT_NE(m.find("malformed"), std::string::npos) << m;

  // A ledger written by a newer autarky.
  std::string newer = (dir / "newer.db").string();
  { Ledger ledger(newer, OpenMode::kCreateIfMissing); }
  {
    SqliteDb db(newer, false);
    db.exec("INSERT INTO schema_version (version, applied_at) VALUES (99, 0)");
  }
  m = message_of(newer, OpenMode::kMustExist);
  EXPECT_NE(m.find("newer"), std::string::npos) << m;
}

}  // namespace
}  // namespace autarky::tenants
