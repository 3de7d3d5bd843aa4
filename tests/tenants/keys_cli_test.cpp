// `autarky keys` end to end through the real binary: what an operator sees, and the errors.

#include <nlohmann/json.hpp>

#include "tenants/ledger.h"
#include "test_support.h"

namespace autarky::tenants {
namespace {

test::CommandResult keys(const std::string& args) { return test::run_command(test::cli_path() + " keys " + args); }

TEST(KeysCli, CreateListUsageRevoke) {
  if (test::cli_path().empty()) GTEST_SKIP() << "CLI not built";
  test::TempDir dir;
  std::string db = (dir / "ledger.db").string();

  auto created = keys("create --db " + db + " --name alice --tokens-per-day 1000 --tokens-per-month 20000 --rpm 30 --max-concurrent 4");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto secret_at = created.out.find("ak-");
  ASSERT_NE(secret_at, std::string::npos) << created.out;
  std::string secret = created.out.substr(secret_at, 3 + 12 + 1 + 64);
  std::string id = secret.substr(3, 12);
  EXPECT_NE(created.out.find("id:     " + id), std::string::npos) << created.out;
  EXPECT_NE(created.err.find("only this once"), std::string::npos);

  auto as_json = keys("create --db " + db + " --name bob --json");
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  auto bob = nlohmann::json::parse(as_json.out);
  EXPECT_EQ(bob["name"], "bob");
  EXPECT_TRUE(bob["limits"]["requests_per_minute"].is_null() && bob["limits"]["tokens_per_day"].is_null());
  std::string bob_id = bob["id"];

  {
    Ledger ledger(db, OpenMode::kMustExist);
    auto key = ledger.authenticate(secret);
    ASSERT_TRUE(key);
    EXPECT_EQ(key->limits.tokens_per_day, 1000u);
    EXPECT_EQ(key->limits.tokens_per_month, 20000u);
    EXPECT_EQ(key->limits.requests_per_minute, 30u);
    EXPECT_EQ(key->limits.max_concurrent, 4u);
    EXPECT_TRUE(ledger.authenticate(bob["secret"].get<std::string>()));
    ASSERT_TRUE(ledger.record_usage({id, "chatcmpl-1", 120, 80, Clock::now()}));
    ASSERT_TRUE(ledger.record_usage({id, "chatcmpl-2", 5, 6, Clock::now()}));
  }

  auto listed = keys("list --db " + db);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out.find("ak-"), std::string::npos) << "a secret in the listing";
  EXPECT_EQ(listed.out.find(secret.substr(16)), std::string::npos);
  EXPECT_NE(listed.out.find(id), std::string::npos);
  EXPECT_NE(listed.out.find("alice"), std::string::npos);
  EXPECT_NE(listed.out.find("20000"), std::string::npos);
  EXPECT_NE(listed.out.find("211"), std::string::npos) << listed.out;  // 120+80+5+6 used today

  auto listed_json = keys("list --db " + db + " --json");
  ASSERT_EQ(listed_json.exit_code, 0) << listed_json.err;
  auto list = nlohmann::json::parse(listed_json.out);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["id"], id);
  EXPECT_EQ(list[0]["limits"]["requests_per_minute"], 30);
  EXPECT_EQ(list[0]["tokens_today"], 211);
  EXPECT_FALSE(list[0].contains("secret"));

  auto usage = keys("usage --db " + db + " " + id + " --json");
  ASSERT_EQ(usage.exit_code, 0) << usage.err;
  auto u = nlohmann::json::parse(usage.out);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0]["today"]["requests"], 2);
  EXPECT_EQ(u[0]["today"]["prompt_tokens"], 125);
  EXPECT_EQ(u[0]["this_month"]["completion_tokens"], 86);
  EXPECT_EQ(u[0]["all_time"]["total_tokens"], 211);
  auto all_usage = keys("usage --db " + db);
  ASSERT_EQ(all_usage.exit_code, 0) << all_usage.err;
  EXPECT_NE(all_usage.out.find(bob_id), std::string::npos);

  auto revoked = keys("revoke --db " + db + " " + id);
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_NE(revoked.out.find("revoked " + id), std::string::npos);
  auto again = keys("revoke --db " + db + " " + id);
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("already revoked"), std::string::npos);
  {
    Ledger ledger(db, OpenMode::kMustExist);
    EXPECT_FALSE(ledger.authenticate(secret));
    EXPECT_TRUE(ledger.find_key(id)->revoked());
  }
  auto after = nlohmann::json::parse(keys("list --db " + db + " --json").out);
  EXPECT_FALSE(after[0]["revoked_at"].is_null());
  EXPECT_TRUE(after[1]["revoked_at"].is_null());
}

TEST(KeysCli, BadArgumentsAndFilesFailWithAClearMessage) {
  if (test::cli_path().empty()) GTEST_SKIP() << "CLI not built";
  test::TempDir dir;
  std::string db = (dir / "ledger.db").string();
  ASSERT_EQ(keys("create --db " + db + " --name a").exit_code, 0);
  std::string text = (dir / "readme.txt").string();
  test::write_bytes(text, std::vector<std::uint8_t>(3000, 'z'));

  struct Case {
    std::string args;
    std::string message;
  };
  std::vector<Case> cases = {
      {"list --db " + (dir / "missing.db").string(), "no such database file"},
      {"usage --db " + (dir / "missing.db").string(), "no such database file"},
      {"revoke --db " + db + " 0123456789ab", "no key with id '0123456789ab'"},
      {"usage --db " + db + " 0123456789ab", "no key with id"},
      {"revoke --db " + db + " not-an-id", "not a key id"},
      {"revoke --db " + db, "key id is required"},
      {"create --db " + db, "--name is required"},
      {"create --name x", "--db is required"},
      {"list", "--db is required"},
      {"create --db " + db + " --name x --rpm -3", "--rpm: '-3' is not a non-negative integer"},
      {"create --db " + db + " --name x --tokens-per-day 10k", "--tokens-per-day: '10k'"},
      {"create --db " + db + " --name x --max-concurrent 99999999999999999999999", "--max-concurrent"},
      {"list --db " + db + " surplus", "unexpected argument 'surplus'"},
      {"list --db " + text, "not a database"},
      {"create --db " + text + " --name x", "not a database"},
      {"", "expected a subcommand"},
  };
  for (const Case& c : cases) {
    auto r = keys(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find("error: "), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "missing.db"));  // list/usage do not create
  auto bytes = test::read_bytes(text);
  EXPECT_EQ(bytes, std::vector<std::uint8_t>(3000, 'z'));  // a foreign file is left alone
}

}  // namespace
}  // namespace autarky::tenants
