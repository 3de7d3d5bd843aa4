#pragma once
// The server's Prometheus metrics, rendered in the text exposition format for GET /metrics:
//
//   autarky_http_requests_total{route,status}       counter
//   autarky_prompt_tokens_total / _completion_tokens_total   counters
//   autarky_request_duration_seconds{route}          histogram, whole request
//   autarky_time_to_first_token_seconds              histogram, streamed requests
//   autarky_queue_depth, autarky_active_requests, autarky_batch_sequences   gauges (read at scrape)
//
// Thread-safe: HTTP worker threads record, a scrape renders; one mutex, held for microseconds.

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace autarky::server {

class LatencyHistogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

  void observe(double seconds);
  // Appends the _bucket/_sum/_count lines of `name` with the given extra labels ("" or `a="b"`).
  void render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::uint64_t, kBounds.size()> counts_{};  // per bucket, not cumulative
  std::uint64_t total_ = 0;
  double sum_ = 0.0;
};

// Values read from the scheduler when scraped.
struct SchedulerGauges {
  std::int64_t queued = 0;
  std::int64_t active = 0;
  std::int64_t batch_sequences = 0;
  std::uint64_t cancelled = 0;  // requests stopped before their end (clients that went away)
  bool model_loaded = false;
};

class ServerMetrics {
 public:
  void count_request(std::string_view route, int status, double seconds);
  void add_tokens(std::int64_t prompt_tokens, std::int64_t completion_tokens);
  void observe_time_to_first_token(double seconds);

  std::string render(const SchedulerGauges& gauges) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;  // (route, status) -> count
  std::map<std::string, LatencyHistogram> durations_;              // route -> histogram
  LatencyHistogram first_token_;
  std::uint64_t prompt_tokens_ = 0;
  std::uint64_t completion_tokens_ = 0;
};

}  // namespace autarky::server
