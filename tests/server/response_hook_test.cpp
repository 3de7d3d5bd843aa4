// The per-response annotation seam (server/response_hook.h) on a real server with the bundled
// model: text before and after the content, fields and headers, in whole and streamed answers,
// and done() with the recorded usage.

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <atomic>

#include "engine/scheduler.h"
#include "server/api_server.h"
#include "server/served_model.h"
#include "test_support.h"

namespace autarky::server {
namespace {

struct Seen {
  std::string fed;
  std::atomic<int> done_calls{0};
  std::atomic<std::int64_t> completion_tokens{0};
};

class MarkingAnnotator final : public ResponseAnnotator {
 public:
  explicit MarkingAnnotator(Seen& seen) : seen_(seen) {}
  std::string begin(ResponseDecoration& early) override {
    early.headers.emplace_back("Test-Early", "1");
    early.fields["early_field"] = true;
    return "[[";
  }
  void feed(std::string_view text) override { seen_.fed += text; }
  std::string finish(ResponseDecoration& late) override {
    late.fields["late_field"] = seen_.fed.size();
    late.headers.emplace_back("Test-Late", "1");
    return "]]";
  }
  void done(const std::string&, std::int64_t, std::int64_t completion_tokens) override {
    seen_.completion_tokens = completion_tokens;
    ++seen_.done_calls;
  }

 private:
  Seen& seen_;
};

class AnnotatedServer : public ::testing::Test {
 protected:
  void SetUp() override {
    ResponseHooks hooks;
    hooks.annotate = [this](const OpenAiRequest&, const AccessGrant&) {
      return std::make_unique<MarkingAnnotator>(seen_);
    };
    served_.start(access_, hooks);
    port_ = served_.port();
  }
  void TearDown() override { served_.stop(); }

  Seen seen_;
  OpenAccess access_;
  test::ServedModel served_{SchedulerOptions{2, 128, 4, 64}};
  int port_ = 0;
};

constexpr const char* kRequest = R"({"model":"stories260K","prompt":"Once upon a time","max_tokens":8,"temperature":0)";

TEST_F(AnnotatedServer, WholeAnswer) {
  httplib::Client client("127.0.0.1", port_);
  auto r = client.Post("/v1/completions", std::string(kRequest) + "}", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto body = nlohmann::json::parse(r->body);
  const std::string text = body["choices"][0]["text"];
  EXPECT_EQ(text, "[[" + seen_.fed + "]]");
  EXPECT_FALSE(seen_.fed.empty());
  EXPECT_EQ(body["early_field"], true);
  EXPECT_EQ(body["late_field"], seen_.fed.size());
  EXPECT_EQ(r->get_header_value("Test-Early"), "1");
  EXPECT_EQ(r->get_header_value("Test-Late"), "1");
  EXPECT_EQ(seen_.done_calls, 1);
  EXPECT_EQ(seen_.completion_tokens.load(), body["usage"]["completion_tokens"].get<std::int64_t>());
}

TEST_F(AnnotatedServer, StreamedAnswer) {
  httplib::Client client("127.0.0.1", port_);
  auto r = client.Post("/v1/completions", std::string(kRequest) + R"(,"stream":true})", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Test-Early"), "1");
  EXPECT_FALSE(r->has_header("Test-Late"));  // headers were gone before the end was known
  std::string text;
  bool early_field = false;
  bool late_field = false;
  std::size_t pos = 0;
  while ((pos = r->body.find("data: ", pos)) != std::string::npos) {
    const std::size_t end = r->body.find("\n\n", pos);
    const std::string payload = r->body.substr(pos + 6, end - pos - 6);
    pos = end;
    if (payload == "[DONE]") break;
    auto chunk = nlohmann::json::parse(payload);
    text += chunk["choices"][0]["text"].get<std::string>();
    early_field |= chunk.contains("early_field");
    late_field |= chunk.contains("late_field") && chunk["choices"][0]["finish_reason"].is_string();
  }
  EXPECT_EQ(text, "[[" + seen_.fed + "]]");
  EXPECT_TRUE(early_field);
  EXPECT_TRUE(late_field);
  EXPECT_EQ(seen_.done_calls, 1);
}

}  // namespace
}  // namespace autarky::server
