// The compliance annotator on a real in-process server with the bundled model: the explicit
// label in the content, the aigc object (body / last chunk) whose integrity code verifies over
// exactly the delivered text, the AIGC-Label header, and one audit record per request.

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "compliance/audit_log.h"
#include "compliance/response_labeler.h"
#include "server/compliance_annotator.h"
#include "server/served_model.h"
#include "server/sse_reader.h"
#include "test_support.h"

namespace autarky::server {
namespace {

compliance::SecretKey provider_key() {
  return compliance::SecretKey::from_bytes(std::vector<std::uint8_t>(compliance::SecretKey::kBytes, 0x42));
}

class LabelledServer : public ::testing::Test {
 protected:
  void SetUp() override {
    audit_path_ = (dir_ / "audit.jsonl").string();
    auto audit = std::make_shared<compliance::AuditLog>(audit_path_, compliance::AuditOptions{provider_key(), false});
    compliance::LabelPolicy policy;
    policy.content_producer = "ACME";
    auto labeler = std::make_shared<const compliance::ResponseLabeler>(policy, provider_key(), audit);
    served_.start(access_, compliance_hooks(labeler));
    port_ = served_.port();
  }
  void TearDown() override { served_.stop(); }

  std::vector<nlohmann::json> audit_records() const {
    std::vector<nlohmann::json> records;
    std::ifstream in(audit_path_);
    for (std::string line; std::getline(in, line);) records.push_back(nlohmann::json::parse(line));
    return records;
  }

  test::TempDir dir_;
  std::string audit_path_;
  OpenAccess access_;
  test::ServedModel served_{SchedulerOptions{2, 128, 4, 64}};
  int port_ = 0;
};

constexpr const char* kRequest = R"({"model":"stories260K","prompt":"Once upon a time","max_tokens":12,"temperature":0)";

TEST_F(LabelledServer, WholeAnswerCarriesBothLabelsAndAnAuditRecord) {
  httplib::Client client("127.0.0.1", port_);
  auto r = client.Post("/v1/completions", std::string(kRequest) + "}", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto body = nlohmann::json::parse(r->body);
  const std::string text = body["choices"][0]["text"];
  ASSERT_EQ(text.rfind("AI-generated\n", 0), 0u) << text;
  EXPECT_GT(text.size(), std::string("AI-generated\n").size());
  ASSERT_TRUE(body.contains("aigc")) << r->body;
  EXPECT_EQ(body["aigc"]["ContentProducer"], "ACME");
  EXPECT_TRUE(compliance::verify_label(text, body["aigc"], provider_key()));
  EXPECT_FALSE(compliance::verify_label(text + ".", body["aigc"], provider_key()));
  EXPECT_EQ(nlohmann::json::parse(r->get_header_value(compliance::ResponseLabeler::kHeaderName)), body["aigc"]);

  auto records = audit_records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["produce_id"], body["aigc"]["ProduceID"]);
  EXPECT_EQ(records[0]["completion_tokens"], body["usage"]["completion_tokens"]);
  EXPECT_EQ(records[0]["content_sha256"], compliance::to_hex(compliance::sha256(text)));
  EXPECT_TRUE(compliance::verify_audit_log(audit_path_, provider_key()).ok);
}

TEST_F(LabelledServer, StreamedAnswerCarriesTheLabelInTheLastChunk) {
  httplib::Client client("127.0.0.1", port_);
  auto r = client.Post("/v1/completions", std::string(kRequest) + R"(,"stream":true})", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto early = nlohmann::json::parse(r->get_header_value(compliance::ResponseLabeler::kHeaderName));
  EXPECT_EQ(early["ReservedCode1"], "");  // the header left before the content's hash existed
  std::string text;
  nlohmann::json aigc;
  int chunks_with_label = 0;
  for (const nlohmann::json& chunk : test::sse_payloads(r->body)) {
    if (!chunk.contains("choices") || chunk["choices"].empty()) continue;
    text += chunk["choices"][0]["text"].get<std::string>();
    if (chunk.contains("aigc")) {
      ++chunks_with_label;
      aigc = chunk["aigc"];
      EXPECT_TRUE(chunk["choices"][0]["finish_reason"].is_string());  // the last content chunk
    }
  }
  EXPECT_EQ(chunks_with_label, 1);
  ASSERT_EQ(text.rfind("AI-generated\n", 0), 0u) << text;
  EXPECT_TRUE(compliance::verify_label(text, aigc, provider_key()));
  EXPECT_EQ(aigc["ProduceID"], early["ProduceID"]);
  auto records = audit_records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["produce_id"], aigc["ProduceID"]);
}

}  // namespace
}  // namespace autarky::server
