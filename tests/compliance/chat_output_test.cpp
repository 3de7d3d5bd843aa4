// `autarky chat -o FILE`: the labelled replies (not the user's turns) go to FILE, the implicit
// label of the whole file to FILE.aigc.json, with an integrity code over exactly FILE's bytes,
// as `run -o` does; every reply still gets its own audit record.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "compliance/audit_log.h"
#include "compliance/content_label.h"
#include "compliance/secret_key.h"
#include "test_support.h"

namespace autarky::compliance {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

class ChatOutput : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::cli_path().empty()) GTEST_SKIP() << "CLI not built";
    model_ = test::bundled_chat_model(dir_);
    key_ = (dir_ / "provider.key").string();
    SecretKey::from_bytes(std::vector<std::uint8_t>(SecretKey::kBytes, 0x33)).save(key_);
  }
  test::CommandResult chat(const std::string& flags) {
    return test::run_command("printf 'Hello there\\nWhat next\\n' | " + test::cli_path() + " chat -m " + model_ +
                             " -n 8 --temp 0 -c 256 -t 1 --label-key " + key_ + " " + flags);
  }
  test::TempDir dir_;
  std::string model_, key_;
};

TEST_F(ChatOutput, WritesLabelledRepliesAndASidecarThatVerifies) {
  const std::string out = (dir_ / "chat.txt").string();
  const std::string audit = (dir_ / "audit.jsonl").string();
  auto r = chat("-o " + out + " --audit-log " + audit);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::string file = slurp(out);
  // Two replies, each with its notice at the start, and nothing of the user's turns.
  EXPECT_EQ(file.rfind("AI-generated\n", 0), 0u) << file;
  EXPECT_EQ(count_of(file, "AI-generated\n"), 2u) << file;
  EXPECT_EQ(file.find("Hello there"), std::string::npos) << file;
  const std::size_t second = file.find("\n\nAI-generated\n");
  ASSERT_NE(second, std::string::npos) << file;
  // Each reply in the file is exactly what the terminal showed.
  EXPECT_NE(r.out.find(file.substr(0, second)), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(file.substr(second + 2)), std::string::npos) << r.out;

  const SecretKey key = SecretKey::load(key_);
  const nlohmann::json label = read_aigc_sidecar(out);
  EXPECT_EQ(label["Label"], "1");
  EXPECT_TRUE(verify_label(file, label, key));
  EXPECT_FALSE(verify_label(file + " ", label, key));
  EXPECT_NE(r.err.find(label["ProduceID"].get<std::string>()), std::string::npos) << r.err;

  // One audit record per reply (the file is their transcript, not a further generation).
  auto verified = verify_audit_log(audit, key);
  EXPECT_TRUE(verified.ok);
  EXPECT_EQ(verified.n_records, 2u);
}

TEST_F(ChatOutput, FollowsTheLabelFlags) {
  const std::string out = (dir_ / "end.txt").string();
  auto end = chat("--label end --label-lang zh -o " + out);
  ASSERT_EQ(end.exit_code, 0) << end.err;
  const std::string file = slurp(out);
  const std::string zh = "\n人工智能生成";
  EXPECT_EQ(count_of(file, zh), 2u) << file;
  ASSERT_GT(file.size(), zh.size());
  EXPECT_EQ(file.substr(file.size() - zh.size()), zh);
  EXPECT_TRUE(verify_label(file, read_aigc_sidecar(out), SecretKey::load(key_)));

  const std::string off = (dir_ / "off.txt").string();
  auto unlabelled = chat("--label off -o " + off);
  ASSERT_EQ(unlabelled.exit_code, 0) << unlabelled.err;
  const std::string plain = slurp(off);
  EXPECT_EQ(plain.find("AI-generated"), std::string::npos) << plain;
  // The explicit notice is off, the implicit label is not.
  EXPECT_TRUE(verify_label(plain, read_aigc_sidecar(off), SecretKey::load(key_)));
}

}  // namespace
}  // namespace autarky::compliance
