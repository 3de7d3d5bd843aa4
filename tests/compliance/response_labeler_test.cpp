// ResponseLabeler, the API the server and CLI use per response: streamed and one-piece responses
// get the same labels, headers are single ASCII lines, per-key policies override the server's,
// audit records name the response, and keyless labels are complete but unverifiable.

#include <fstream>

#include <nlohmann/json.hpp>

#include "compliance/response_labeler.h"
#include "test_support.h"

namespace autarky::compliance {
namespace {

SecretKey fixed_key(std::uint8_t fill) { return SecretKey::from_bytes(std::vector<std::uint8_t>(SecretKey::kBytes, fill)); }

// Runs one response through the labeler the way a streaming server would; returns what was sent.
std::string stream(LabelledResponse& r, const std::vector<std::string>& chunks) {
  std::string sent = r.begin();
  for (const auto& c : chunks) {
    r.feed(c);
    sent += c;
  }
  sent += r.finish();
  return sent;
}

TEST(ResponseLabeler, StreamedContentCarriesLabelsThatVerify) {
  LabelPolicy policy;
  policy.content_producer = "ACME";
  ResponseLabeler labeler(policy, fixed_key(7));
  LabelledResponse r = labeler.start();
  const std::string early = r.early_header_value();
  const std::string sent = stream(r, {"Once ", "upon a ", "time 人工"});
  EXPECT_EQ(sent, "AI-generated\nOnce upon a time 人工");
  EXPECT_TRUE(verify_label(sent, r.aigc(), fixed_key(7)));
  EXPECT_EQ(r.aigc()["ContentProducer"], "ACME");
  EXPECT_EQ(r.aigc()["ProduceID"], r.produce_id());

  // The header value is the same object on one ASCII line.
  const std::string header = r.header_value();
  for (unsigned char c : header) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << header;
  EXPECT_EQ(nlohmann::json::parse(header), r.aigc());
  // The early header (before any content) has every field but the integrity code.
  auto e = nlohmann::json::parse(early);
  EXPECT_EQ(e["ProduceID"], r.produce_id());
  EXPECT_EQ(e["ReservedCode1"], "");
  EXPECT_EQ(e["Label"], "1");

  LabelledResponse other = labeler.start();
  stream(other, {"x"});
  EXPECT_NE(other.produce_id(), r.produce_id());
}

TEST(ResponseLabeler, PerKeyPolicyOverridesAndImplicitOff) {
  ResponseLabeler labeler(LabelPolicy{}, fixed_key(1));
  LabelPolicy tenant;
  tenant.position = LabelPosition::kEnd;
  tenant.language = "zh";
  tenant.implicit_label = false;
  LabelledResponse r = labeler.start(&tenant);
  EXPECT_EQ(r.early_header_value(), "");
  EXPECT_EQ(stream(r, {"从前"}), "从前\n人工智能生成");
  EXPECT_TRUE(r.aigc().is_null());
  EXPECT_EQ(r.header_value(), "");
  LabelledResponse server_default = labeler.start();
  EXPECT_EQ(stream(server_default, {"a"}), "AI-generated\na");
}

TEST(ResponseLabeler, WithoutKeyTheLabelHasNoIntegrityCode) {
  ResponseLabeler labeler(LabelPolicy{}, std::nullopt);
  LabelledResponse r = labeler.start();
  const std::string sent = stream(r, {"text"});
  EXPECT_EQ(r.aigc()["ReservedCode1"], "");
  EXPECT_EQ(r.aigc()["Label"], "1");
  EXPECT_FALSE(verify_label(sent, r.aigc(), fixed_key(1)));
  EXPECT_FALSE(r.audit("k", 1, 1).has_value());  // no audit log configured
}

TEST(ResponseLabeler, AuditRecordNamesTheResponse) {
  test::TempDir dir;
  const std::string path = (dir / "audit.jsonl").string();
  auto log = std::make_shared<AuditLog>(path, AuditOptions{fixed_key(3), false});
  ResponseLabeler labeler(LabelPolicy{}, fixed_key(3), log);
  LabelledResponse r = labeler.start();
  const std::string sent = stream(r, {"secret output"});
  auto head = r.audit("tenant-a", 12, 3, "secret prompt", "secret output");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->n_records, 1u);
  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto rec = nlohmann::json::parse(line);
  EXPECT_EQ(rec["key_id"], "tenant-a");
  EXPECT_EQ(rec["produce_id"], r.produce_id());
  EXPECT_EQ(rec["prompt_tokens"], 12);
  EXPECT_EQ(rec["completion_tokens"], 3);
  EXPECT_EQ(rec["content_sha256"], to_hex(sha256(sent)));
  EXPECT_EQ(line.find("secret"), std::string::npos);  // record_text is off
  EXPECT_TRUE(verify_audit_log(path, fixed_key(3)).ok);
}

}  // namespace
}  // namespace autarky::compliance
