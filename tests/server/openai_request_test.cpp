// The OpenAI request parser: valid requests become the right OpenAiRequest, and every kind of bad
// input becomes a 400 naming the offending field, never an exception.

#include <gtest/gtest.h>

#include <string>

#include "server/openai_request.h"

namespace autarky::server {
namespace {

OpenAiRequest parse_ok(ApiRoute route, const std::string& body) {
  ParseResult r = parse_completion_request(route, body);
  if (auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << "refused: " << e->message << " for " << body;
    return {};
  }
  return std::get<OpenAiRequest>(r);
}

ApiError parse_error(ApiRoute route, const std::string& body) {
  ParseResult r = parse_completion_request(route, body);
  if (std::holds_alternative<OpenAiRequest>(r)) {
    ADD_FAILURE() << "accepted: " << body;
    return {};
  }
  return std::get<ApiError>(r);
}

constexpr auto kChat = ApiRoute::kChatCompletions;
constexpr auto kText = ApiRoute::kCompletions;

TEST(OpenAiRequest, MinimalChatGetsOpenAiDefaults) {
  OpenAiRequest r = parse_ok(kChat, R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0]["role"], "user");
  EXPECT_EQ(r.messages[0]["content"], "hi");
  EXPECT_FALSE(r.max_tokens.has_value());
  EXPECT_FALSE(r.seed.has_value());
  EXPECT_FALSE(r.stream);
  EXPECT_EQ(r.sampling.temperature, 1.0f);
  EXPECT_EQ(r.sampling.top_p, 1.0f);
  EXPECT_EQ(r.sampling.top_k, 0);
  EXPECT_EQ(r.sampling.min_p, 0.0f);
  EXPECT_TRUE(r.stop.empty());
}

TEST(OpenAiRequest, ChatFieldsAreRead) {
  OpenAiRequest r = parse_ok(kChat, R"({
    "model": "m", "user": "u1", "n": 1, "seed": -3, "temperature": 0, "top_p": 0.5,
    "max_tokens": 7, "max_completion_tokens": 9, "stop": ["a", "", "bc"],
    "presence_penalty": 0.5, "frequency_penalty": -1, "top_k": 5, "min_p": 0.1, "repeat_penalty": 1.1,
    "stream": true, "stream_options": {"include_usage": true}, "logprobs": true, "top_logprobs": 3,
    "tools": [], "tool_choice": "none", "logit_bias": {}, "response_format": {"type": "text"},
    "some_future_field": {"x": [1, 2]},
    "messages": [
      {"role": "developer", "content": "be brief"},
      {"role": "user", "name": "ann", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
      {"role": "assistant", "content": null},
      {"role": "user", "content": "again"}]})");
  EXPECT_EQ(r.user, "u1");
  EXPECT_EQ(r.seed, static_cast<std::uint64_t>(-3));
  EXPECT_EQ(r.sampling.temperature, 0.0f);
  EXPECT_TRUE(r.sampling.greedy());
  EXPECT_EQ(r.sampling.top_p, 0.5f);
  EXPECT_EQ(r.max_tokens, 9);  // max_completion_tokens wins
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "bc"}));
  EXPECT_EQ(r.sampling.presence_penalty, 0.5f);
  EXPECT_EQ(r.sampling.frequency_penalty, -1.0f);
  EXPECT_EQ(r.sampling.top_k, 5);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.1f);
  EXPECT_FLOAT_EQ(r.sampling.repeat_penalty, 1.1f);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 3);
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[0]["role"], "system");
  EXPECT_EQ(r.messages[1]["content"], "one\ntwo");
  EXPECT_EQ(r.messages[1]["name"], "ann");
  EXPECT_EQ(r.messages[2]["content"], "");
}

TEST(OpenAiRequest, CompletionPromptForms) {
  EXPECT_EQ(parse_ok(kText, R"({"model":"m","prompt":"Once"})").prompt, "Once");
  EXPECT_EQ(parse_ok(kText, R"({"model":"m","prompt":["Once"]})").prompt, "Once");
  OpenAiRequest ids = parse_ok(kText, R"({"model":"m","prompt":[1, 403, 407.0]})");
  EXPECT_TRUE(ids.prompt_is_token_ids);
  EXPECT_EQ(ids.prompt_token_ids, (std::vector<std::int32_t>{1, 403, 407}));
  OpenAiRequest nested = parse_ok(kText, R"({"model":"m","prompt":[[5, 6]],"echo":true,"logprobs":2,"stop":"x"})");
  EXPECT_EQ(nested.prompt_token_ids, (std::vector<std::int32_t>{5, 6}));
  EXPECT_TRUE(nested.echo);
  EXPECT_TRUE(nested.logprobs);
  EXPECT_EQ(nested.top_logprobs, 2);
  EXPECT_EQ(nested.stop, std::vector<std::string>{"x"});
  // null means unset, as in OpenAI's API
  OpenAiRequest nulls = parse_ok(kText, R"({"model":"m","prompt":"p","max_tokens":null,"stop":null,"seed":null})");
  EXPECT_FALSE(nulls.max_tokens.has_value());
  EXPECT_FALSE(nulls.seed.has_value());
}

struct BadCase {
  ApiRoute route;
  const char* body;
  const char* param;  // expected "param" of the error ("" = none)
};

TEST(OpenAiRequest, BadRequestsAre400WithTheOffendingParam) {
  const BadCase cases[] = {
      {kChat, "", ""},
      {kChat, "{", ""},
      {kChat, "not json", ""},
      {kChat, "[1,2]", "body"},
      {kChat, "\"text\"", "body"},
      {kChat, R"({"messages":[{"role":"user","content":"x"}]})", "model"},
      {kChat, R"({"model":5,"messages":[{"role":"user","content":"x"}]})", "model"},
      {kChat, R"({"model":"m"})", "messages"},
      {kChat, R"({"model":"m","messages":[]})", "messages"},
      {kChat, R"({"model":"m","messages":"hi"})", "messages"},
      {kChat, R"({"model":"m","messages":[5]})", "messages[0]"},
      {kChat, R"({"model":"m","messages":[{"content":"x"}]})", "messages[0].role"},
      {kChat, R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})", "messages[0].role"},
      {kChat, R"({"model":"m","messages":[{"role":"user"}]})", "messages[0].content"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":7}]})", "messages[0].content"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})",
       "messages[0].content[0].type"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]})",
       "messages[0].content[0].text"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"})", "temperature"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":2.5})", "temperature"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":-0.1})", "temperature"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"top_p":1.5})", "top_p"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"presence_penalty":3})", "presence_penalty"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0})", "max_tokens"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":2.5})", "max_tokens"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":"10"})", "max_tokens"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":-1})",
       "max_completion_tokens"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"seed":"1"})", "seed"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"seed":1e300})", "seed"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":2})", "n"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":"1"})", "n"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":5})", "stop"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a",1]})", "stop[1]"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]})", "stop"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"})", "stream"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}})",
       "stream_options"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":[]})",
       "stream_options"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"top_logprobs":2})", "top_logprobs"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":21})",
       "top_logprobs"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"logprobs":1})", "logprobs"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]})", "tools"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"required"})", "tool_choice"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":{"5":10}})", "logit_bias"},
      {kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}})",
       "response_format"},
      {kText, R"({"model":"m"})", "prompt"},
      {kText, R"({"model":"m","prompt":5})", "prompt"},
      {kText, R"({"model":"m","prompt":[]})", "prompt"},
      {kText, R"({"model":"m","prompt":["a","b"]})", "prompt"},
      {kText, R"({"model":"m","prompt":[1,-2]})", "prompt[1]"},
      {kText, R"({"model":"m","prompt":[1,"a"]})", "prompt[1]"},
      {kText, R"({"model":"m","prompt":[1,4294967296]})", "prompt[1]"},
      {kText, R"({"model":"m","prompt":"p","logprobs":6})", "logprobs"},
      {kText, R"({"model":"m","prompt":"p","echo":1})", "echo"},
      {kText, R"({"model":"m","prompt":"p","suffix":"end"})", "suffix"},
      {kText, R"({"model":"m","prompt":"p","best_of":3})", "best_of"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.body);
    ApiError e = parse_error(c.route, c.body);
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.type, "invalid_request_error");
    EXPECT_EQ(e.param, c.param);
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(OpenAiRequest, ErrorJsonHasOpenAiShape) {
  ApiError e = parse_error(kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"top_p":2})");
  nlohmann::json j = e.to_json();
  ASSERT_TRUE(j.contains("error"));
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["param"], "top_p");
  EXPECT_TRUE(j["error"]["message"].get<std::string>().find("top_p") != std::string::npos);
  ApiError syntax = parse_error(kChat, "{");
  EXPECT_TRUE(syntax.to_json()["error"]["param"].is_null());
  EXPECT_EQ(syntax.to_json()["error"]["code"], "invalid_json");
}

TEST(OpenAiRequest, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep = R"({"model":"m","messages":[{"role":"user","content":"x"}],"x":)" + std::string(100000, '[');
  EXPECT_EQ(parse_error(kChat, deep).code, "invalid_json");
  EXPECT_TRUE(json_nesting_exceeds(std::string(65, '['), 64));
  EXPECT_FALSE(json_nesting_exceeds(std::string(64, '['), 64));
  // Brackets inside strings, escaped quotes included, are text.
  EXPECT_FALSE(json_nesting_exceeds(R"(["[[[[\"[[[[", {"a": "}}}{{{{"}])", 3));
  EXPECT_TRUE(json_nesting_exceeds(R"([[[["\"", []]]])", 4));
}

TEST(OpenAiRequest, InvalidUtf8IsAJsonError) {
  const std::string body = std::string(R"({"model":"m","prompt":")") + "\xff\xfe" + "\"}";
  EXPECT_EQ(parse_error(kText, body).code, "invalid_json");
}

TEST(OpenAiRequest, LimitsAreConfigurable) {
  RequestLimits limits;
  limits.max_messages = 2;
  ParseResult r = parse_completion_request(
      kChat, R"({"model":"m","messages":[{"role":"user","content":"1"},{"role":"user","content":"2"},{"role":"user","content":"3"}]})",
      limits);
  ASSERT_TRUE(std::holds_alternative<ApiError>(r));
  EXPECT_EQ(std::get<ApiError>(r).param, "messages");
}

}  // namespace
}  // namespace autarky::server
