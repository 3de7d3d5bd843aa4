// The HTTP layer without a model: /health says "loading" (503) until a model is set, completion
// routes answer 503 with Retry-After meanwhile, and whatever httplib refuses (unknown route,
// oversized body) still comes back in OpenAI's error shape. Plus the metrics text format and
// the `serve` command's refusal to run open on a public address.

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <thread>

#include "server/api_server.h"
#include "test_support.h"

namespace autarky::server {
namespace {

class ServerWithoutModel : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiServerOptions options;
    options.port = 0;
    options.max_body_bytes = 1024;
    options.http_threads = 4;
    server_ = std::make_unique<ApiServer>(options, access_);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->serve(); });
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }
  httplib::Client client() { return httplib::Client("127.0.0.1", port_); }

  OpenAccess access_;
  std::unique_ptr<ApiServer> server_;
  std::thread thread_;
  int port_ = 0;
};

nlohmann::json error_of(const httplib::Result& r) {
  auto body = nlohmann::json::parse(r->body);
  EXPECT_TRUE(body.contains("error")) << r->body;
  EXPECT_TRUE(body["error"]["message"].is_string());
  EXPECT_TRUE(body["error"]["type"].is_string());
  return body["error"];
}

TEST_F(ServerWithoutModel, HealthIs503UntilTheModelIsLoaded) {
  auto c = client();
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  EXPECT_EQ(nlohmann::json::parse(health->body)["status"], "loading");

  auto completion = c.Post("/v1/completions", R"({"model":"m","prompt":"x"})", "application/json");
  ASSERT_TRUE(completion);
  EXPECT_EQ(completion->status, 503);
  EXPECT_GE(std::stoi(completion->get_header_value("Retry-After")), 1);
  EXPECT_EQ(error_of(completion)["code"], "overloaded");

  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("autarky_model_loaded 0\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("autarky_http_requests_total{route=\"/health\",status=\"503\"} 1\n"), std::string::npos)
      << metrics->body;
}

TEST_F(ServerWithoutModel, RefusalsHaveTheOpenAiErrorShape) {
  auto c = client();
  auto missing = c.Post("/v1/embeddings", "{}", "application/json");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(error_of(missing)["code"], "not_found");

  auto large = c.Post("/v1/chat/completions", std::string(4096, ' '), "application/json");
  ASSERT_TRUE(large);
  EXPECT_EQ(large->status, 413);
  EXPECT_EQ(error_of(large)["code"], "request_too_large");
}

TEST(ServerMetrics, HistogramBucketsAreCumulative) {
  ServerMetrics m;
  m.count_request("/v1/completions", 200, 0.003);
  m.count_request("/v1/completions", 200, 0.2);
  m.count_request("/v1/completions", 400, 100.0);
  m.add_tokens(5, 7);
  const std::string text = m.render(SchedulerGauges{2, 3, 4, 1, true});
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("autarky_http_requests_total{route=\"/v1/completions\",status=\"200\"} 2")) << text;
  EXPECT_TRUE(has("autarky_http_requests_total{route=\"/v1/completions\",status=\"400\"} 1"));
  EXPECT_TRUE(has("autarky_request_duration_seconds_bucket{route=\"/v1/completions\",le=\"0.005\"} 1"));
  EXPECT_TRUE(has("autarky_request_duration_seconds_bucket{route=\"/v1/completions\",le=\"0.25\"} 2"));
  EXPECT_TRUE(has("autarky_request_duration_seconds_bucket{route=\"/v1/completions\",le=\"30\"} 2"));
  EXPECT_TRUE(has("autarky_request_duration_seconds_bucket{route=\"/v1/completions\",le=\"+Inf\"} 3"));
  EXPECT_TRUE(has("autarky_request_duration_seconds_count{route=\"/v1/completions\"} 3"));
  EXPECT_TRUE(has("autarky_prompt_tokens_total 5"));
  EXPECT_TRUE(has("autarky_completion_tokens_total 7"));
  EXPECT_TRUE(has("autarky_queue_depth 2"));
  EXPECT_TRUE(has("autarky_active_requests 3"));
  EXPECT_TRUE(has("autarky_batch_sequences 4"));
  EXPECT_TRUE(has("autarky_requests_cancelled_total 1"));
  EXPECT_TRUE(has("autarky_model_loaded 1"));
}

TEST(ServeCommand, RefusesOpenModeOnAPublicAddress) {
  const std::string model = test::bundled_model().string();
  auto r = test::run_command(test::cli_path() + " serve -m " + model + " --host 0.0.0.0 --port 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--allow-open"), std::string::npos) << r.err;
  auto slots = test::run_command(test::cli_path() + " serve -m " + model + " --slots 0 --port 0");
  EXPECT_EQ(slots.exit_code, 1);
  EXPECT_NE(slots.err.find("--slots"), std::string::npos) << slots.err;
}

}  // namespace
}  // namespace autarky::server
