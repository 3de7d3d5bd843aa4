#pragma once
// Small pieces of HTTP shared by the server's routes (internal to src/server).

#include <httplib.h>

#include <optional>
#include <string>
#include <string_view>

#include "server/api_error.h"
#include "server/openai_response.h"

namespace autarky::server {

inline void write_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(dump_json(body), "application/json");
}

inline void write_error(httplib::Response& res, const ApiError& error) {
  if (error.retry_after_seconds) res.set_header("Retry-After", std::to_string(*error.retry_after_seconds));
  write_json(res, error.status, error.to_json());
}

// The token of "Authorization: Bearer <token>" (scheme case-insensitive), nullopt without one.
inline std::optional<std::string_view> bearer_token(const httplib::Request& req) {
  auto it = req.headers.find("Authorization");
  if (it == req.headers.end()) return std::nullopt;
  std::string_view value = it->second;
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size()) return std::string_view{};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return std::string_view{};
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return value;
}

}  // namespace autarky::server
