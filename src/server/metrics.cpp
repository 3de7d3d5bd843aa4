#include "server/metrics.h"

#include <fmt/format.h>

namespace autarky::server {
namespace {

// Label values are route paths we chose, but escape anyway: the format breaks on a stray quote.
std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

void LatencyHistogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  if (i < kBounds.size()) ++counts_[i];
  ++total_;
  sum_ += seconds;
}

void LatencyHistogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  const std::string sep = labels.empty() ? "" : ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, kBounds[i], cumulative);
  }
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, total_);
  const std::string braces = labels.empty() ? "" : fmt::format("{{{}}}", labels);
  out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, braces, sum_, name, braces, total_);
}

void ServerMetrics::count_request(std::string_view route, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), status}];
  durations_[std::string(route)].observe(seconds);
}

void ServerMetrics::add_tokens(std::int64_t prompt_tokens, std::int64_t completion_tokens) {
  std::lock_guard lock(mutex_);
  prompt_tokens_ += static_cast<std::uint64_t>(prompt_tokens);
  completion_tokens_ += static_cast<std::uint64_t>(completion_tokens);
}

void ServerMetrics::observe_time_to_first_token(double seconds) {
  std::lock_guard lock(mutex_);
  first_token_.observe(seconds);
}

std::string ServerMetrics::render(const SchedulerGauges& g) const {
  std::lock_guard lock(mutex_);
  std::string out;
  header(out, "autarky_http_requests_total", "counter", "HTTP requests by route and status code");
  for (const auto& [key, count] : requests_) {
    out += fmt::format("autarky_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", escape_label(key.first),
                       key.second, count);
  }
  header(out, "autarky_prompt_tokens_total", "counter", "Prompt tokens of completed requests");
  out += fmt::format("autarky_prompt_tokens_total {}\n", prompt_tokens_);
  header(out, "autarky_completion_tokens_total", "counter", "Generated tokens of completed requests");
  out += fmt::format("autarky_completion_tokens_total {}\n", completion_tokens_);
  header(out, "autarky_request_duration_seconds", "histogram", "Time from request to last byte, by route");
  for (const auto& [route, h] : durations_) {
    h.render(out, "autarky_request_duration_seconds", fmt::format("route=\"{}\"", escape_label(route)));
  }
  header(out, "autarky_time_to_first_token_seconds", "histogram", "Streamed requests: time to the first text");
  first_token_.render(out, "autarky_time_to_first_token_seconds", "");
  header(out, "autarky_queue_depth", "gauge", "Requests waiting for a decoding slot");
  out += fmt::format("autarky_queue_depth {}\n", g.queued);
  header(out, "autarky_active_requests", "gauge", "Requests holding a decoding slot");
  out += fmt::format("autarky_active_requests {}\n", g.active);
  header(out, "autarky_batch_sequences", "gauge", "Sequences in the last batched forward pass");
  out += fmt::format("autarky_batch_sequences {}\n", g.batch_sequences);
  header(out, "autarky_requests_cancelled_total", "counter", "Requests cancelled before their end (client gone)");
  out += fmt::format("autarky_requests_cancelled_total {}\n", g.cancelled);
  header(out, "autarky_model_loaded", "gauge", "1 once the model is loaded and requests are served");
  out += fmt::format("autarky_model_loaded {}\n", g.model_loaded ? 1 : 0);
  return out;
}

}  // namespace autarky::server
