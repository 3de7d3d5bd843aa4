// `autarky run` with the compliance flags, end to end on the bundled model: the explicit label
// where the flags put it, the sidecar's implicit label and its integrity code, the audit log,
// and the watermark as `autarky detect` sees it.

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compliance/audit_log.h"
#include "compliance/content_label.h"
#include "compliance/secret_key.h"
#include "test_support.h"

namespace autarky::compliance {
namespace {

std::string cli() { return test::cli_path(); }
std::string model() { return test::bundled_model().string(); }

bool have_cli_and_model() { return !cli().empty() && std::filesystem::exists(test::bundled_model()); }

test::CommandResult run_story(const std::string& flags, int n = 24) {
  return test::run_command(cli() + " run -m " + model() + " -p 'Once upon a time' -n " + std::to_string(n) +
                           " -t 1 --seed 3 " + flags);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string fixed_key(const test::TempDir& dir, const char* name, std::uint8_t byte) {
  std::string path = (dir / name).string();
  SecretKey::from_bytes(std::vector<std::uint8_t>(32, byte)).save(path);
  return path;
}

TEST(CliLabels, ExplicitLabelAtStartByDefaultAtEndOrOff) {
  if (!have_cli_and_model()) GTEST_SKIP() << "CLI or model missing";
  auto plain = run_story("--label off");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out.find("AI-generated"), std::string::npos) << plain.out;
  ASSERT_EQ(plain.out.rfind("Once upon a time", 0), 0u) << plain.out;

  auto start = run_story("");
  ASSERT_EQ(start.exit_code, 0) << start.err;
  EXPECT_EQ(start.out, "AI-generated\n" + plain.out);  // same seed: same text, label in front

  auto end = run_story("--label end --label-lang zh");
  ASSERT_EQ(end.exit_code, 0) << end.err;
  // The run's trailing newline stays last; the notice comes right before it.
  ASSERT_GE(plain.out.size(), 1u);
  EXPECT_EQ(end.out, plain.out.substr(0, plain.out.size() - 1) + "\n人工智能生成\n");

  auto custom = run_story("--label-text '[machine text]' --label-lang both");
  ASSERT_EQ(custom.exit_code, 0) << custom.err;
  EXPECT_EQ(custom.out, "[machine text]\n" + plain.out);
  auto both = run_story("--label-lang both");
  EXPECT_EQ(both.out.rfind("人工智能生成 / AI-generated\n", 0), 0u) << both.out;

  auto bad = run_story("--label middle");
  EXPECT_NE(bad.exit_code, 0);
}

TEST(CliLabels, OutputFileGetsSidecarWithVerifiableIntegrityCodeAndAuditRecords) {
  if (!have_cli_and_model()) GTEST_SKIP() << "CLI or model missing";
  test::TempDir dir;
  const std::string key_path = fixed_key(dir, "provider.key", 0x11);
  const SecretKey key = SecretKey::load(key_path);
  const std::string out = (dir / "story.txt").string(), out2 = (dir / "story2.txt").string();
  const std::string log = (dir / "audit.jsonl").string();
  auto r1 = run_story("--label end --label-key " + key_path + " --producer ACME -o " + out + " --audit-log " + log);
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  auto r2 = run_story("--label-key " + key_path + " --output " + out2 + " --audit-log " + log);
  ASSERT_EQ(r2.exit_code, 0) << r2.err;

  const std::string text = slurp(out);
  // The file holds the labelled continuation: what stdout shows after the prompt.
  ASSERT_TRUE(text.ends_with("\nAI-generated")) << text;
  EXPECT_NE(r1.out.find(text), std::string::npos);
  EXPECT_EQ(text.find("Once upon a time"), std::string::npos);  // the prompt is not generated
  EXPECT_EQ(slurp(out2).rfind("AI-generated\n", 0), 0u);

  const nlohmann::json label = read_aigc_sidecar(out), label2 = read_aigc_sidecar(out2);
  for (const char* field :
       {"Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2"}) {
    ASSERT_TRUE(label.contains(field) && label[field].is_string()) << field << " " << label.dump();
  }
  EXPECT_EQ(label["Label"], "1");
  EXPECT_EQ(label["ContentProducer"], "ACME");
  EXPECT_EQ(label2["ContentProducer"], "autarky");
  EXPECT_NE(label["ProduceID"], label2["ProduceID"]);  // same seed, same text: still a new id
  EXPECT_TRUE(verify_label(text, label, key));
  EXPECT_TRUE(verify_label(slurp(out2), label2, key));
  EXPECT_FALSE(verify_label(text + " ", label, key));
  EXPECT_FALSE(verify_label(text, label2, key));
  EXPECT_FALSE(verify_label(text, label, SecretKey::from_bytes(std::vector<std::uint8_t>(32, 0x12))));
  EXPECT_NE(r1.err.find(label["ProduceID"].get<std::string>()), std::string::npos) << r1.err;

  // One keyed audit record per generation, naming the same ProduceIDs and content hashes.
  std::vector<nlohmann::json> records;
  {
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) records.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["produce_id"], label["ProduceID"]);
  EXPECT_EQ(records[1]["produce_id"], label2["ProduceID"]);
  EXPECT_EQ(records[0]["content_sha256"], to_hex(sha256(text)));
  EXPECT_EQ(records[0]["completion_tokens"], 24);
  EXPECT_TRUE(records[0].contains("mac"));
  EXPECT_EQ(records[0].dump().find("Once upon"), std::string::npos);  // no text unless asked
  auto v = test::run_command(cli() + " audit verify --log " + log + " --key " + key_path);
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  // Without a provider key the label is complete but carries no integrity code.
  const std::string out3 = (dir / "nokey.txt").string();
  ASSERT_EQ(run_story("-o " + out3).exit_code, 0);
  const nlohmann::json unkeyed = read_aigc_sidecar(out3);
  EXPECT_EQ(unkeyed["ReservedCode1"], "");
  EXPECT_EQ(unkeyed["Label"], "1");
  EXPECT_FALSE(verify_label(slurp(out3), unkeyed, key));
}

TEST(CliLabels, WatermarkKeyMakesTextThatDetectFinds) {
  if (!have_cli_and_model()) GTEST_SKIP() << "CLI or model missing";
  test::TempDir dir;
  const std::string key_path = fixed_key(dir, "wm.key", 0x5a);
  int detected = 0, false_positives = 0;
  std::set<std::string> produce_ids;
  for (int seed = 1; seed <= 3; ++seed) {
    const std::string marked = (dir / ("m" + std::to_string(seed))).string();
    const std::string plain = (dir / ("p" + std::to_string(seed))).string();
    const std::string common = "-n 250 --ignore-eos --seed " + std::to_string(seed) + " -t 1 -c 256 -p 'Once upon a time'";
    auto rm = test::run_command(cli() + " run -m " + model() + " " + common + " --watermark-key " + key_path + " -o " + marked);
    auto rp = test::run_command(cli() + " run -m " + model() + " " + common + " -o " + plain);
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    ASSERT_EQ(rp.exit_code, 0) << rp.err;
    EXPECT_NE(rm.err.find("watermark on"), std::string::npos) << rm.err;
    produce_ids.insert(read_aigc_sidecar(marked)["ProduceID"].get<std::string>());
    produce_ids.insert(read_aigc_sidecar(plain)["ProduceID"].get<std::string>());
    auto dm = test::run_command(cli() + " detect -m " + model() + " --key " + key_path + " --json " + marked);
    auto dp = test::run_command(cli() + " detect -m " + model() + " --key " + key_path + " --json " + plain);
    ASSERT_EQ(dm.exit_code, 0) << dm.err;
    ASSERT_EQ(dp.exit_code, 0) << dp.err;
    auto jm = nlohmann::json::parse(dm.out), jp = nlohmann::json::parse(dp.out);
    std::printf("seed %d: z watermarked %.2f, plain %.2f\n", seed, jm["z"].get<double>(), jp["z"].get<double>());
    detected += jm["watermarked"].get<bool>();
    false_positives += jp["watermarked"].get<bool>();
  }
  EXPECT_EQ(detected, 3);
  EXPECT_EQ(false_positives, 0);
  EXPECT_EQ(produce_ids.size(), 6u);
}

}  // namespace
}  // namespace autarky::compliance
