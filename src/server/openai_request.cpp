#include "server/openai_request.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <utility>

namespace autarky::server {
namespace {

using nlohmann::json;

// Thrown inside the parser and turned into the ParseResult at the top: keeps every check a
// one-liner without threading an error value through each helper.
struct Refusal {
  ApiError error;
};

[[noreturn]] void refuse(std::string message, std::string param, std::string code = {}) {
  throw Refusal{bad_request(std::move(message), std::move(param), std::move(code))};
}

[[noreturn]] void wrong_type(const json& v, const std::string& param, const char* expected) {
  refuse(fmt::format("'{}' must be {}, got {}", param, expected, v.type_name()), param, "invalid_type");
}

// The value of `key`, or nullptr when it is absent or JSON null (OpenAI treats both as unset).
const json* field(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

double number(const json& v, const std::string& param) {
  if (!v.is_number()) wrong_type(v, param, "a number");
  const double d = v.get<double>();
  if (!std::isfinite(d)) refuse(fmt::format("'{}' must be a finite number", param), param, "invalid_value");
  return d;
}

double number_in(const json& v, const std::string& param, double lo, double hi) {
  const double d = number(v, param);
  if (d < lo || d > hi) {
    refuse(fmt::format("'{}' is {}, but must be between {} and {}", param, d, lo, hi), param, "invalid_value");
  }
  return d;
}

std::int64_t integer(const json& v, const std::string& param) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      refuse(fmt::format("'{}' is too large", param), param, "invalid_value");
    }
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    // 16.0 is an integer to JavaScript clients; 16.5 is not.
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) <= 9007199254740992.0) return static_cast<std::int64_t>(d);
  }
  wrong_type(v, param, "an integer");
}

std::int64_t integer_in(const json& v, const std::string& param, std::int64_t lo, std::int64_t hi) {
  const std::int64_t i = integer(v, param);
  if (i < lo || i > hi) {
    refuse(fmt::format("'{}' is {}, but must be between {} and {}", param, i, lo, hi), param, "invalid_value");
  }
  return i;
}

bool boolean(const json& v, const std::string& param) {
  if (!v.is_boolean()) wrong_type(v, param, "a boolean");
  return v.get<bool>();
}

const std::string& string(const json& v, const std::string& param) {
  if (!v.is_string()) wrong_type(v, param, "a string");
  return v.get_ref<const std::string&>();
}

std::vector<std::string> parse_stop(const json& v, const RequestLimits& limits) {
  std::vector<std::string> stops;
  auto add = [&](const json& s, const std::string& param) {
    const std::string& text = string(s, param);
    if (text.size() > limits.max_stop_bytes) {
      refuse(fmt::format("'{}' is {} bytes long; the limit is {}", param, text.size(), limits.max_stop_bytes), param,
             "invalid_value");
    }
    if (!text.empty()) stops.push_back(text);  // an empty stop string could never end anything
  };
  if (v.is_string()) {
    add(v, "stop");
  } else if (v.is_array()) {
    if (v.size() > limits.max_stop_strings) {
      refuse(fmt::format("'stop' has {} strings; at most {} are allowed", v.size(), limits.max_stop_strings), "stop",
             "invalid_value");
    }
    for (std::size_t i = 0; i < v.size(); ++i) add(v[i], fmt::format("stop[{}]", i));
  } else {
    wrong_type(v, "stop", "a string or an array of strings");
  }
  return stops;
}

std::string message_content(const json& message, const std::string& role, const std::string& param) {
  const json* content = field(message, "content");
  if (content == nullptr) {
    // An assistant turn that only called tools has no content.
    if (role == "assistant") return {};
    refuse(fmt::format("'{}.content' is required for a {} message", param, role), param + ".content");
  }
  if (content->is_string()) return content->get<std::string>();
  if (!content->is_array()) wrong_type(*content, param + ".content", "a string or an array of content parts");
  std::string joined;
  for (std::size_t i = 0; i < content->size(); ++i) {
    const json& part = (*content)[i];
    const std::string part_param = fmt::format("{}.content[{}]", param, i);
    if (!part.is_object()) wrong_type(part, part_param, "an object");
    const json* type = field(part, "type");
    if (type == nullptr) refuse(fmt::format("'{}.type' is required", part_param), part_param + ".type");
    const std::string& type_name = string(*type, part_param + ".type");
    if (type_name != "text") {
      refuse(fmt::format("'{}.type' is '{}'; this server takes text content only", part_param, type_name),
             part_param + ".type", "unsupported_content");
    }
    const json* text = field(part, "text");
    if (text == nullptr) refuse(fmt::format("'{}.text' is required", part_param), part_param + ".text");
    if (!joined.empty()) joined += '\n';
    joined += string(*text, part_param + ".text");
  }
  return joined;
}

nlohmann::ordered_json parse_messages(const json& body, const RequestLimits& limits) {
  const json* messages = field(body, "messages");
  if (messages == nullptr) refuse("'messages' is required", "messages");
  if (!messages->is_array()) wrong_type(*messages, "messages", "an array");
  if (messages->empty()) refuse("'messages' must contain at least one message", "messages", "invalid_value");
  if (messages->size() > limits.max_messages) {
    refuse(fmt::format("'messages' has {} messages; the limit is {}", messages->size(), limits.max_messages), "messages",
           "invalid_value");
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    const std::string param = fmt::format("messages[{}]", i);
    if (!m.is_object()) wrong_type(m, param, "an object");
    const json* role_value = field(m, "role");
    if (role_value == nullptr) refuse(fmt::format("'{}.role' is required", param), param + ".role");
    std::string role = string(*role_value, param + ".role");
    if (role == "developer") role = "system";  // OpenAI's newer name; chat templates know "system"
    if (role != "system" && role != "user" && role != "assistant" && role != "tool") {
      refuse(fmt::format("'{}.role' is '{}'; expected system, developer, user, assistant or tool", param, role),
             param + ".role", "invalid_value");
    }
    nlohmann::ordered_json message = {{"role", role}, {"content", message_content(m, role, param)}};
    if (const json* name = field(m, "name")) message["name"] = string(*name, param + ".name");
    out.push_back(std::move(message));
  }
  return out;
}

void parse_prompt(const json& body, const RequestLimits& limits, OpenAiRequest& r) {
  const json* prompt = field(body, "prompt");
  if (prompt == nullptr) refuse("'prompt' is required", "prompt");
  if (prompt->is_string()) {
    r.prompt = prompt->get<std::string>();
    return;
  }
  if (!prompt->is_array()) wrong_type(*prompt, "prompt", "a string, an array of strings or an array of token ids");
  if (prompt->empty()) refuse("'prompt' must not be an empty array", "prompt", "invalid_value");
  const json* tokens = prompt;
  if ((*prompt)[0].is_string() || (*prompt)[0].is_array()) {
    // A batch of prompts; one element is the same as a single prompt.
    if (prompt->size() > 1) {
      refuse(fmt::format("'prompt' holds {} prompts; this server completes one prompt per request", prompt->size()),
             "prompt", "unsupported_value");
    }
    if ((*prompt)[0].is_string()) {
      r.prompt = (*prompt)[0].get<std::string>();
      return;
    }
    tokens = &(*prompt)[0];
    if (tokens->empty()) refuse("'prompt[0]' must not be an empty array", "prompt[0]", "invalid_value");
  }
  if (tokens->size() > limits.max_prompt_token_ids) {
    refuse(fmt::format("'prompt' has {} token ids; the limit is {}", tokens->size(), limits.max_prompt_token_ids),
           "prompt", "invalid_value");
  }
  r.prompt_is_token_ids = true;
  r.prompt_token_ids.reserve(tokens->size());
  for (std::size_t i = 0; i < tokens->size(); ++i) {
    const std::int64_t id =
        integer_in((*tokens)[i], fmt::format("prompt[{}]", i), 0, std::numeric_limits<std::int32_t>::max());
    r.prompt_token_ids.push_back(static_cast<std::int32_t>(id));
  }
}

// Fields that name features this server does not have: refused unless they ask for nothing.
void refuse_unsupported(const json& body, ApiRoute route) {
  if (const json* n = field(body, "n"); n != nullptr && integer(*n, "n") != 1) {
    refuse("'n' must be 1: this server returns one choice per request", "n", "unsupported_value");
  }
  if (const json* b = field(body, "best_of"); b != nullptr && integer(*b, "best_of") != 1) {
    refuse("'best_of' must be 1", "best_of", "unsupported_value");
  }
  for (const char* key : {"tools", "functions"}) {
    const json* t = field(body, key);
    if (t == nullptr) continue;
    if (!t->is_array()) wrong_type(*t, key, "an array");
    if (!t->empty()) refuse(fmt::format("'{}' (function calling) is not supported by this server", key), key, "unsupported_value");
  }
  if (const json* c = field(body, "tool_choice"); c != nullptr && !(c->is_string() && (*c == "none" || *c == "auto"))) {
    refuse("'tool_choice' can only be \"none\" or \"auto\": function calling is not supported", "tool_choice",
           "unsupported_value");
  }
  if (const json* bias = field(body, "logit_bias")) {
    if (!bias->is_object()) wrong_type(*bias, "logit_bias", "an object");
    if (!bias->empty()) refuse("'logit_bias' is not supported by this server", "logit_bias", "unsupported_value");
  }
  if (const json* format = field(body, "response_format")) {
    if (!format->is_object()) wrong_type(*format, "response_format", "an object");
    const json* type = field(*format, "type");
    if (type == nullptr || string(*type, "response_format.type") != "text") {
      refuse("'response_format' can only be {\"type\": \"text\"}: structured output is not supported",
             "response_format", "unsupported_value");
    }
  }
  if (route == ApiRoute::kCompletions) {
    if (const json* suffix = field(body, "suffix"); suffix != nullptr && !string(*suffix, "suffix").empty()) {
      refuse("'suffix' (insertion) is not supported by this server", "suffix", "unsupported_value");
    }
  }
}

void parse_sampling(const json& body, OpenAiRequest& r) {
  SamplingParams& s = r.sampling;
  s.temperature = 1.0f;
  s.top_p = 1.0f;
  s.top_k = 0;
  s.min_p = 0.0f;
  if (const json* v = field(body, "temperature")) s.temperature = static_cast<float>(number_in(*v, "temperature", 0.0, 2.0));
  if (const json* v = field(body, "top_p")) {
    // top_p 0 keeps only the most likely token; the sampler wants a positive mass.
    s.top_p = std::max(static_cast<float>(number_in(*v, "top_p", 0.0, 1.0)), 1e-6f);
  }
  if (const json* v = field(body, "top_k")) s.top_k = static_cast<std::int32_t>(integer_in(*v, "top_k", 0, 1 << 20));
  if (const json* v = field(body, "min_p")) s.min_p = static_cast<float>(number_in(*v, "min_p", 0.0, 1.0));
  if (const json* v = field(body, "presence_penalty")) {
    s.presence_penalty = static_cast<float>(number_in(*v, "presence_penalty", -2.0, 2.0));
  }
  if (const json* v = field(body, "frequency_penalty")) {
    s.frequency_penalty = static_cast<float>(number_in(*v, "frequency_penalty", -2.0, 2.0));
  }
  if (const json* v = field(body, "repeat_penalty")) {
    s.repeat_penalty = static_cast<float>(number_in(*v, "repeat_penalty", 0.01, 10.0));
  }
  if (const json* v = field(body, "seed")) {
    // Any 64-bit integer; negative seeds are as good as positive ones.
    if (v->is_number_unsigned()) {
      r.seed = v->get<std::uint64_t>();
    } else {
      r.seed = static_cast<std::uint64_t>(integer(*v, "seed"));
    }
  }
}

void parse_logprobs(const json& body, const RequestLimits& limits, OpenAiRequest& r) {
  if (r.route == ApiRoute::kChatCompletions) {
    if (const json* v = field(body, "logprobs")) r.logprobs = boolean(*v, "logprobs");
    if (const json* v = field(body, "top_logprobs")) {
      r.top_logprobs = static_cast<std::int32_t>(integer_in(*v, "top_logprobs", 0, limits.max_top_logprobs_chat));
      if (!r.logprobs) refuse("'top_logprobs' needs 'logprobs': true", "top_logprobs", "invalid_value");
    }
  } else if (const json* v = field(body, "logprobs")) {
    // The legacy endpoint's logprobs is the number of alternatives per position.
    r.logprobs = true;
    r.top_logprobs = static_cast<std::int32_t>(integer_in(*v, "logprobs", 0, limits.max_logprobs_completions));
  }
}

OpenAiRequest parse_object(ApiRoute route, const json& body, const RequestLimits& limits) {
  if (!body.is_object()) wrong_type(body, "body", "a JSON object");
  OpenAiRequest r;
  r.route = route;
  const json* model = field(body, "model");
  if (model == nullptr) refuse("'model' is required", "model");
  r.model = string(*model, "model");

  if (route == ApiRoute::kChatCompletions) {
    r.messages = parse_messages(body, limits);
  } else {
    parse_prompt(body, limits, r);
    if (const json* v = field(body, "echo")) r.echo = boolean(*v, "echo");
  }
  refuse_unsupported(body, route);

  // max_completion_tokens is the newer name for the same limit; when both are given it wins.
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    if (const json* v = field(body, key)) r.max_tokens = integer_in(*v, key, 1, std::numeric_limits<std::int32_t>::max());
  }
  parse_sampling(body, r);
  if (const json* v = field(body, "stop")) r.stop = parse_stop(*v, limits);
  if (const json* v = field(body, "ignore_eos")) r.ignore_eos = boolean(*v, "ignore_eos");
  if (const json* v = field(body, "stream")) r.stream = boolean(*v, "stream");
  if (const json* options = field(body, "stream_options")) {
    if (!options->is_object()) wrong_type(*options, "stream_options", "an object");
    if (!r.stream) refuse("'stream_options' is only allowed when 'stream' is true", "stream_options", "invalid_value");
    if (const json* v = field(*options, "include_usage")) r.include_usage = boolean(*v, "stream_options.include_usage");
  }
  parse_logprobs(body, limits, r);
  if (const json* v = field(body, "user")) r.user = string(*v, "user");
  return r;
}

}  // namespace

bool json_nesting_exceeds(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

ParseResult parse_completion_request(ApiRoute route, std::string_view body, const RequestLimits& limits) {
  if (body.empty()) return bad_request("the request body is empty; expected a JSON object", {}, "invalid_json");
  if (json_nesting_exceeds(body, limits.max_nesting)) {
    return bad_request(fmt::format("the request body nests deeper than {} levels", limits.max_nesting), {}, "invalid_json");
  }
  json document;
  try {
    document = json::parse(body.begin(), body.end());
  } catch (const json::exception& e) {
    return bad_request(fmt::format("the request body is not valid JSON: {}", e.what()), {}, "invalid_json");
  }
  try {
    return parse_object(route, document, limits);
  } catch (const Refusal& r) {
    return r.error;
  } catch (const std::exception& e) {
    // A check missed above; still the client's request, never a crash.
    return bad_request(fmt::format("invalid request: {}", e.what()));
  }
}

}  // namespace autarky::server
