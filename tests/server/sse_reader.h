#pragma once
// Test helper: the JSON payloads of a server-sent-events body ("data: {...}\n\n" ... "data:
// [DONE]"), in order, without [DONE].

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace autarky::test {

inline std::vector<nlohmann::json> sse_payloads(const std::string& body) {
  std::vector<nlohmann::json> payloads;
  std::size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    const std::size_t end = body.find("\n\n", pos);
    const std::string payload = body.substr(pos + 6, end == std::string::npos ? std::string::npos : end - pos - 6);
    if (payload == "[DONE]" || end == std::string::npos) break;
    payloads.push_back(nlohmann::json::parse(payload));
    pos = end;
  }
  return payloads;
}

}  // namespace autarky::test
