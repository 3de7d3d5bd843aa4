// `autarky keys create ... --label/--label-lang/--label-text/--watermark` and `autarky keys
// policy`: what an operator sets is what the ledger (and so the server) sees; only the flags
// given change; "inherit" clears a field; bad values fail with a message naming them.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tenants/ledger.h"
#include "test_support.h"

namespace autarky::tenants {
namespace {

test::CommandResult keys(const std::string& args) { return test::run_command(test::cli_path() + " keys " + args); }

KeyPolicy stored_policy(const std::string& db, const std::string& id) {
  Ledger ledger(db, OpenMode::kMustExist);
  auto key = ledger.find_key(id);
  EXPECT_TRUE(key);
  return key ? key->policy : KeyPolicy{};
}

TEST(KeysPolicyCli, CreateWithPolicyChangeItAndListIt) {
  if (test::cli_path().empty()) GTEST_SKIP() << "CLI not built";
  test::TempDir dir;
  const std::string db = (dir / "ledger.db").string();

  auto created = keys("create --db " + db + " --name acme --label end --label-lang zh --watermark on --json");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.err.find("--watermark-key"), std::string::npos) << created.err;  // the note for operators
  auto acme = nlohmann::json::parse(created.out);
  const std::string id = acme["id"];
  EXPECT_EQ(acme["policy"]["label"], "end");
  EXPECT_EQ(acme["policy"]["label_language"], "zh");
  EXPECT_TRUE(acme["policy"]["label_text"].is_null());
  EXPECT_EQ(acme["policy"]["watermark"], true);
  KeyPolicy expected;
  expected.label = "end";
  expected.label_language = "zh";
  expected.watermark = true;
  EXPECT_EQ(stored_policy(db, id), expected);

  // Only the flags given change.
  auto changed = keys("policy --db " + db + " " + id + " --label off --label-text '[bot]'");
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  expected.label = "off";
  expected.label_text = "[bot]";
  EXPECT_EQ(stored_policy(db, id), expected);
  EXPECT_NE(changed.out.find("label=off"), std::string::npos) << changed.out;

  // "inherit" (and an empty text) clear fields again.
  auto cleared =
      keys("policy --db " + db + " " + id + " --label-lang inherit --label-text '' --watermark inherit --json");
  ASSERT_EQ(cleared.exit_code, 0) << cleared.err;
  KeyPolicy only_off;
  only_off.label = "off";
  EXPECT_EQ(stored_policy(db, id), only_off);
  EXPECT_TRUE(nlohmann::json::parse(cleared.out)["policy"]["watermark"].is_null());

  auto plain = keys("create --db " + db + " --name plain");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("policy: -"), std::string::npos) << plain.out;
  auto listed = keys("list --db " + db);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("POLICY"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("label=off"), std::string::npos) << listed.out;
  auto list = nlohmann::json::parse(keys("list --db " + db + " --json").out);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["policy"]["label"], "off");
  EXPECT_TRUE(list[1]["policy"]["label"].is_null());
}

TEST(KeysPolicyCli, BadValuesFailAndChangeNothing) {
  if (test::cli_path().empty()) GTEST_SKIP() << "CLI not built";
  test::TempDir dir;
  const std::string db = (dir / "ledger.db").string();
  auto created = keys("create --db " + db + " --name acme --label end --json");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string id = nlohmann::json::parse(created.out)["id"];

  for (std::string flags : {"--label middle", "--label-lang fr", "--watermark yes"}) {
    auto r = keys("policy --db " + db + " " + id + " " + flags);
    EXPECT_EQ(r.exit_code, 1) << flags;
    const std::string value = flags.substr(flags.find(' ') + 1);
    EXPECT_NE(r.err.find("'" + value + "'"), std::string::npos) << r.err;
    auto c = keys("create --db " + db + " --name x " + flags);
    EXPECT_EQ(c.exit_code, 1) << flags;
  }
  auto unknown = keys("policy --db " + db + " 0123456789ab --label off");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("0123456789ab"), std::string::npos) << unknown.err;
  KeyPolicy end;
  end.label = "end";
  EXPECT_EQ(stored_policy(db, id), end);
  EXPECT_EQ(Ledger(db, OpenMode::kMustExist).list_keys().size(), 1u);
}

}  // namespace
}  // namespace autarky::tenants
