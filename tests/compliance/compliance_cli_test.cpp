// The compliance subcommands end to end: exit codes and messages an operator relies on.

#include <sys/stat.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "compliance/audit_log.h"
#include "compliance/watermark.h"
#include "engine/session.h"
#include "model/model.h"
#include "platform/thread_pool.h"
#include "sampling/sampler.h"
#include "text/tokenizer.h"
#include "test_support.h"

namespace autarky::compliance {
namespace {

std::string cli() { return test::cli_path(); }

// The hash cache goes into the test's own directory, never into the real home.
test::CommandResult run(const test::TempDir& dir, const std::string& args) {
  return test::run_command("AUTARKY_CACHE_DIR=" + (dir / "cache").string() + " " + cli() + " " + args);
}

TEST(ComplianceCli, KeygenWritesAPrivateKeyAndRefusesToOverwrite) {
  if (cli().empty()) GTEST_SKIP() << "CLI not built";
  test::TempDir dir;
  std::string key = (dir / "wm.key").string();
  auto r = run(dir, "keygen --out " + key);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = SecretKey::load(key);
  EXPECT_NE(r.out.find(loaded.key_id()), std::string::npos) << r.out;
  auto again = run(dir, "keygen --out " + key);
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("refusing to replace"), std::string::npos) << again.err;
  EXPECT_EQ(SecretKey::load(key).key_id(), loaded.key_id());
}

TEST(ComplianceCli, SignVerifyAndRefusals) {
  if (cli().empty()) GTEST_SKIP() << "CLI not built";
  test::TempDir dir;
  auto d = [&](const char* name) { return (dir / name).string(); };
  if (test::run_command("openssl genpkey -algorithm ed25519 -out " + d("k.pem")).exit_code != 0)
    GTEST_SKIP() << "openssl CLI not available";
  ASSERT_EQ(test::run_command("openssl pkey -in " + d("k.pem") + " -pubout -out " + d("k.pub")).exit_code, 0);
  ASSERT_EQ(test::run_command("openssl genpkey -algorithm ed25519 -out " + d("o.pem")).exit_code, 0);
  ASSERT_EQ(test::run_command("openssl pkey -in " + d("o.pem") + " -pubout -out " + d("o.pub")).exit_code, 0);
  std::vector<std::uint8_t> model(100000);
  for (std::size_t i = 0; i < model.size(); ++i) model[i] = static_cast<std::uint8_t>(i * 7 + 3);
  test::write_bytes(d("m.gguf"), model);

  auto s = run(dir, "sign " + d("m.gguf") + " --key " + d("k.pem") + " --out " + d("m.manifest") + " --publisher ACME");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  auto ok = run(dir, "verify " + d("m.gguf") + " --manifest " + d("m.manifest") + " --pubkey " + d("k.pub"));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("OK:"), std::string::npos);

  auto wrong_key = run(dir, "verify " + d("m.gguf") + " --manifest " + d("m.manifest") + " --pubkey " + d("o.pub"));
  EXPECT_EQ(wrong_key.exit_code, 1);
  EXPECT_NE(wrong_key.err.find("REFUSED"), std::string::npos) << wrong_key.err;

  model[5000] ^= 1;
  test::write_bytes(d("m.gguf"), model);
  auto tampered = run(dir, "verify " + d("m.gguf") + " --manifest " + d("m.manifest") + " --pubkey " + d("k.pub") + " --json");
  EXPECT_EQ(tampered.exit_code, 1);
  EXPECT_NE(tampered.err.find("the file was modified"), std::string::npos) << tampered.err;
  EXPECT_EQ(nlohmann::json::parse(tampered.out)["ok"], false);
}

TEST(ComplianceCli, DetectReadsTokenIdsAndPrintsJson) {
  if (cli().empty()) GTEST_SKIP() << "CLI not built";
  test::TempDir dir;
  std::string key_path = (dir / "k").string();
  ASSERT_EQ(run(dir, "keygen --out " + key_path).exit_code, 0);
  auto key = SecretKey::load(key_path);
  // Greedy over a fixed pseudo-random logit table, with the watermark: a deterministic
  // watermarked sequence without needing a model.
  WatermarkProcessor wm(key);
  std::vector<std::int32_t> tokens = {1};
  std::vector<float> logits(512);
  for (int step = 0; step < 150; ++step) {
    for (std::size_t v = 0; v < logits.size(); ++v)
      logits[v] = static_cast<float>(GreenList::mix64(step * 1000003ull + v) % 1000) / 1000.0f;
    wm.apply(logits, tokens);
    tokens.push_back(static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin()));
  }
  std::string ids;
  for (auto t : tokens) ids += std::to_string(t) + " ";
  std::ofstream((dir / "ids.txt").string()) << ids;

  auto r = run(dir, "detect --ids --key " + key_path + " --json " + (dir / "ids.txt").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["watermarked"], true);
  EXPECT_GT(j["z"].get<double>(), 4.0);
  EXPECT_LT(j["p_value"].get<double>(), 1e-4);

  std::string other = (dir / "other").string();
  ASSERT_EQ(run(dir, "keygen --out " + other).exit_code, 0);
  auto r2 = run(dir, "detect --ids --key " + other + " - < " + (dir / "ids.txt").string());
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_NE(r2.out.find("no evidence"), std::string::npos) << r2.out;

  auto bad = test::run_command("echo '1 2 x' | " + cli() + " detect --ids --key " + key_path);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("expected a token id"), std::string::npos) << bad.err;
}

// Text generated by stories260K with the default sampler (EOS masked so every run has
// n_tokens tokens), with or without the watermark, decoded to text.
std::string generate_story(const Model& model, const WatermarkProcessor* wm, std::uint64_t seed, int n_tokens) {
  ThreadPool pool(1);
  Session session(model, pool, 256);
  SamplingParams params;
  params.seed = seed;
  Sampler sampler(params, session.n_vocab());
  const auto& cfg = model.config();
  std::vector<std::int32_t> history = {cfg.bos_token >= 0 ? cfg.bos_token : 1};
  std::span<const float> raw = session.prefill(history);
  std::vector<float> logits;
  std::vector<std::int32_t> generated;
  for (int i = 0; i < n_tokens; ++i) {
    logits.assign(raw.begin(), raw.end());
    if (cfg.eos_token >= 0) logits[static_cast<std::size_t>(cfg.eos_token)] = -INFINITY;
    if (wm) wm->apply(logits, history);
    std::int32_t t = sampler.sample(logits);
    sampler.accept(t);
    history.push_back(t);
    generated.push_back(t);
    if (i + 1 < n_tokens) raw = session.decode(t);
  }
  return text::Tokenizer::from_gguf(model.file())->decode(generated);
}

TEST(ComplianceCli, DetectTokenizesTextWithTheModelsTokenizer) {
  if (cli().empty()) GTEST_SKIP() << "CLI not built";
  if (!std::filesystem::exists(test::bundled_model())) GTEST_SKIP() << "models/stories260K.gguf missing";
  test::TempDir dir;
  // A fixed key: the outcome must not depend on the random key of the day.
  std::string key_path = (dir / "k").string();
  SecretKey::from_bytes(std::vector<std::uint8_t>(32, 0x5a)).save(key_path);
  auto key = SecretKey::load(key_path);
  Model model = Model::load(test::bundled_model().string());
  WatermarkProcessor wm(key);
  int detected = 0, false_positives = 0;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    std::ofstream((dir / "marked.txt").string()) << generate_story(model, &wm, seed, 200);
    std::ofstream((dir / "plain.txt").string()) << generate_story(model, nullptr, seed, 200);
    auto rm = run(dir, "detect -m " + test::bundled_model().string() + " --key " + key_path + " --json " +
                           (dir / "marked.txt").string());
    auto rp = run(dir, "detect -m " + test::bundled_model().string() + " --key " + key_path + " --json - < " +
                           (dir / "plain.txt").string());
    ASSERT_EQ(rm.exit_code, 0) << rm.err;
    ASSERT_EQ(rp.exit_code, 0) << rp.err;
    auto jm = nlohmann::json::parse(rm.out), jp = nlohmann::json::parse(rp.out);
    EXPECT_GT(jm["n_tokens"].get<int>(), 100);
    detected += jm["watermarked"].get<bool>();
    std::printf("seed %d: text z %.2f (%d tokens, %d scored)\n", static_cast<int>(seed), jm["z"].get<double>(),
                jm["n_tokens"].get<int>(), jm["n_scored"].get<int>());
    false_positives += jp["watermarked"].get<bool>();
  }
  EXPECT_GE(detected, 2);  // text round trip (decode, re-encode) may split a few tokens differently
  EXPECT_EQ(false_positives, 0);
}

TEST(ComplianceCli, AuditVerifyNamesTheFirstBadLine) {
  if (cli().empty()) GTEST_SKIP() << "CLI not built";
  test::TempDir dir;
  std::string key_path = (dir / "k").string();
  ASSERT_EQ(run(dir, "keygen --out " + key_path).exit_code, 0);
  std::string log_path = (dir / "audit.jsonl").string();
  {
    AuditLog log(log_path, AuditOptions{SecretKey::load(key_path), false});
    for (int i = 0; i < 4; ++i) {
      AuditEvent e;
      e.produce_id = "p" + std::to_string(i);
      e.completion_tokens = 10u + static_cast<unsigned>(i);
      log.append(e);
    }
  }
  auto ok = run(dir, "audit verify --log " + log_path + " --key " + key_path);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("OK: 4 records"), std::string::npos) << ok.out;

  std::vector<std::string> lines;
  {
    std::ifstream in(log_path);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  auto rec = nlohmann::json::parse(lines[2]);
  rec["completion_tokens"] = 999;
  lines[2] = rec.dump();
  {
    std::ofstream out(log_path, std::ios::trunc);
    for (const auto& l : lines) out << l << "\n";
  }
  auto bad = run(dir, "audit verify --log " + log_path + " --json");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("line 3"), std::string::npos) << bad.err;
  EXPECT_EQ(nlohmann::json::parse(bad.out)["first_bad_line"], 3);
}

}  // namespace
}  // namespace autarky::compliance
