#pragma once
// An error returned to an API client, in OpenAI's shape:
//   {"error": {"message": "...", "type": "invalid_request_error", "param": "top_p", "code": null}}
// with the HTTP status it goes out with. Everything the server refuses ends up as one of these,
// so a client's SDK raises its usual exception class (BadRequestError, AuthenticationError, ...).

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace autarky::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // empty: null
  std::string code;   // empty: null
  // Seconds a client should wait before retrying (429 / 503): a Retry-After header.
  std::optional<int> retry_after_seconds;

  nlohmann::json to_json() const {
    nlohmann::json e = {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
    if (!param.empty()) e["param"] = param;
    if (!code.empty()) e["code"] = code;
    return nlohmann::json{{"error", std::move(e)}};
  }
};

// The usual cases, so that status, type and code stay consistent across the server.
inline ApiError bad_request(std::string message, std::string param = {}, std::string code = {}) {
  return ApiError{400, std::move(message), "invalid_request_error", std::move(param), std::move(code), {}};
}
inline ApiError not_found(std::string message) {
  return ApiError{404, std::move(message), "invalid_request_error", {}, "not_found", {}};
}
inline ApiError unauthorized(std::string message) {
  return ApiError{401, std::move(message), "invalid_request_error", {}, "invalid_api_key", {}};
}
inline ApiError quota_exceeded(std::string message, int retry_after_seconds) {
  return ApiError{429, std::move(message), "rate_limit_error", {}, "rate_limit_exceeded", retry_after_seconds};
}
inline ApiError overloaded(std::string message, int retry_after_seconds = 1) {
  return ApiError{503, std::move(message), "server_error", {}, "overloaded", retry_after_seconds};
}
inline ApiError internal_error(std::string message) {
  return ApiError{500, std::move(message), "server_error", {}, {}, {}};
}

}  // namespace autarky::server
