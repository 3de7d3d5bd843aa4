// `autarky bench-batch -m MODEL [--streams 1,2,4,8,16] [-n 64] [--prompt-tokens 16]`: the
// concurrency curve of continuous batching. For each stream count S, S requests are submitted at
// once to a Scheduler with S slots and generate n tokens each (greedy, no end token); reported:
// aggregate decode tokens/s while all S streams decode, end-to-end tokens/s, mean time to first
// token, generated tokens per CPU-second of this process, overall and while all streams decode
// (which, unlike wall-clock rates, a busy shared machine hardly disturbs), and the batch sizes the scheduler actually ran. The weights
// are paged in by an untimed request first. A table on stdout, then one JSON line.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "base/error.h"
#include "command.h"
#include "engine/scheduler.h"
#include "kernels/isa.h"
#include "model/model.h"
#include "text/tokenizer.h"

namespace autarky::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BatchBenchOptions {
  std::string model;
  int threads = 0;
  std::vector<int> streams = {1, 2, 4, 8, 16};
  std::int64_t n_generate = 64;
  std::int64_t prompt_tokens = 16;
  std::int64_t prefill_chunk = 64;
};

struct StreamTimes {
  Clock::time_point first_token{}, finished{};
  std::vector<Clock::time_point> token_times;
  std::vector<double> token_cpu;  // process CPU seconds when each token arrived
};

struct CurvePoint {
  int streams = 0;
  double decode_tok_s = 0.0;      // tokens of all streams in the window where all of them decode
  double end_to_end_tok_s = 0.0;  // generated tokens / (last finish - submit)
  double mean_ttft_ms = 0.0;
  std::int64_t max_batch = 0;
  std::int64_t generated = 0;
  double tok_per_cpu_s = 0.0;     // generated tokens / process CPU time (all threads), prefill included
  double decode_tok_per_cpu_s = 0.0;  // the same over the window where all streams decode
};

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

CurvePoint run_point(const Model& model, const text::Tokenizer& tok, ThreadPool& pool, const BatchBenchOptions& o, int n_streams) {
  const std::int64_t n_ctx = o.prompt_tokens + o.n_generate + 1;
  Scheduler sched(model, tok, pool,
                  {.n_slots = n_streams, .n_ctx_per_slot = n_ctx, .max_queued = 0, .prefill_chunk = o.prefill_chunk});
  std::mutex mutex;
  std::condition_variable cv;
  int done = 0;
  std::int64_t max_batch = 0;
  std::vector<StreamTimes> times(static_cast<std::size_t>(n_streams));
  const std::int32_t n_vocab = tok.n_vocab();
  const Clock::time_point t0 = Clock::now();
  const double cpu0 = process_cpu_seconds();
  for (int s = 0; s < n_streams; ++s) {
    CompletionRequest r;
    // Different prompts per stream (the work is the same; the caches are not).
    r.prompt.push_back(tok.bos() >= 0 ? tok.bos() : 1);
    for (std::int64_t i = 1; i < o.prompt_tokens; ++i) {
      r.prompt.push_back(static_cast<std::int32_t>((300 + 97 * s + 31 * i) % n_vocab));
    }
    r.sampling.temperature = 0.0f;
    r.options.max_tokens = o.n_generate;
    CompletionCallbacks cb;
    StreamTimes& st = times[static_cast<std::size_t>(s)];
    cb.on_token = [&, &st = st](std::int32_t, std::span<const float>) {
      const auto now = Clock::now();
      std::lock_guard lock(mutex);
      if (st.token_times.empty()) st.first_token = now;
      st.token_times.push_back(now);
      st.token_cpu.push_back(process_cpu_seconds());
      max_batch = std::max(max_batch, sched.stats().last_batch_sequences);
    };
    cb.on_finish = [&, &st = st](const CompletionResult& result) {
      std::lock_guard lock(mutex);
      if (result.status != CompletionStatus::kFinished) fmt::print(stderr, "stream failed: {}\n", result.error);
      st.finished = Clock::now();
      ++done;
      cv.notify_all();
    };
    sched.submit(std::move(r), std::move(cb));
  }
  std::unique_lock lock(mutex);
  cv.wait(lock, [&] { return done == n_streams; });
  const double cpu_seconds = process_cpu_seconds() - cpu0;

  CurvePoint p;
  p.streams = n_streams;
  p.max_batch = max_batch;
  Clock::time_point window_begin = t0, window_end = Clock::time_point::max(), last_finish = t0;
  double ttft = 0.0;
  for (const StreamTimes& st : times) {
    window_begin = std::max(window_begin, st.first_token);
    window_end = std::min(window_end, st.finished);
    last_finish = std::max(last_finish, st.finished);
    ttft += seconds(st.first_token - t0);
    p.generated += static_cast<std::int64_t>(st.token_times.size());
  }
  // Tokens sampled strictly after every stream had its first token and before any finished;
  // CPU time from the token that opened the window to the last one inside it.
  std::int64_t in_window = 0;
  double cpu_begin = 0.0, cpu_end = 0.0;
  for (const StreamTimes& st : times) {
    for (std::size_t i = 0; i < st.token_times.size(); ++i) {
      const Clock::time_point t = st.token_times[i];
      if (t == window_begin) cpu_begin = st.token_cpu[i];
      if (t > window_begin && t <= window_end) {
        ++in_window;
        cpu_end = std::max(cpu_end, st.token_cpu[i]);
      }
    }
  }
  if (window_end > window_begin) p.decode_tok_s = static_cast<double>(in_window) / seconds(window_end - window_begin);
  if (cpu_end > cpu_begin) p.decode_tok_per_cpu_s = static_cast<double>(in_window) / (cpu_end - cpu_begin);
  p.end_to_end_tok_s = static_cast<double>(p.generated) / seconds(last_finish - t0);
  p.mean_ttft_ms = 1000.0 * ttft / n_streams;
  p.tok_per_cpu_s = static_cast<double>(p.generated) / std::max(cpu_seconds, 1e-9);
  return p;
}

int run(const BatchBenchOptions& o) {
  if (o.n_generate < 2) fail("-n {} must be at least 2", o.n_generate);
  if (o.prompt_tokens < 1) fail("--prompt-tokens {} must be at least 1", o.prompt_tokens);
  Model model = Model::load(o.model);
  model.wait_until_repacked();  // throughput of the model as it runs once loaded, not while it repacks
  auto tok = text::Tokenizer::from_gguf(model.file());
  ThreadPool pool(o.threads);
  fmt::print("model {} ({}), threads {}, isa {}, prompt {} tokens, {} generated per stream\n", o.model,
             model.config().arch_name, pool.size(), isa_name(default_isa()), o.prompt_tokens, o.n_generate);
  {  // page the weights in and warm the caches: not measured
    BatchBenchOptions warm = o;
    warm.n_generate = 2;
    run_point(model, *tok, pool, warm, 1);
  }
  fmt::print("{:>7} {:>14} {:>12} {:>14} {:>10} {:>9} {:>12} {:>12}\n", "streams", "decode tok/s", "vs 1 stream",
             "e2e tok/s", "ttft ms", "max batch", "tok/cpu-s", "decode/cpu-s");
  nlohmann::json out = nlohmann::json::array();
  double single = 0.0;
  for (int s : o.streams) {
    if (s < 1) fail("--streams: {} is not a stream count", s);
    CurvePoint p = run_point(model, *tok, pool, o, s);
    if (single == 0.0) single = p.decode_tok_s;
    fmt::print("{:>7} {:>14.2f} {:>11.2f}x {:>14.2f} {:>10.1f} {:>9} {:>12.2f} {:>12.2f}\n", p.streams, p.decode_tok_s,
               single > 0 ? p.decode_tok_s / single : 0.0, p.end_to_end_tok_s, p.mean_ttft_ms, p.max_batch,
               p.tok_per_cpu_s, p.decode_tok_per_cpu_s);
    std::fflush(stdout);
    out.push_back({{"streams", p.streams}, {"decode_tok_s", p.decode_tok_s}, {"end_to_end_tok_s", p.end_to_end_tok_s},
                   {"mean_ttft_ms", p.mean_ttft_ms}, {"max_batch", p.max_batch}, {"generated", p.generated},
                   {"tok_per_cpu_s", p.tok_per_cpu_s}, {"decode_tok_per_cpu_s", p.decode_tok_per_cpu_s}});
  }
  nlohmann::json summary = {{"bench", "batching"}, {"model", o.model}, {"threads", pool.size()},
                            {"isa", std::string(isa_name(default_isa()))}, {"prompt_tokens", o.prompt_tokens},
                            {"generated_per_stream", o.n_generate}, {"curve", out}};
  fmt::print("{}\n", summary.dump());
  return 0;
}

const RegisterCommand kBatchBench{
    "bench-batch", "Aggregate decode throughput of continuous batching for 1, 2, 4, ... concurrent streams",
    [](CLI::App& app) {
      auto o = std::make_shared<BatchBenchOptions>();
      app.add_option("-m,--model", o->model, "GGUF model file")->required();
      app.add_option("-t,--threads", o->threads, "Threads (0: physical cores)")->capture_default_str();
      app.add_option("--streams", o->streams, "Stream counts to measure")->delimiter(',')->capture_default_str();
      app.add_option("-n,--n-generate", o->n_generate, "Tokens generated per stream")->capture_default_str();
      app.add_option("--prompt-tokens", o->prompt_tokens, "Prompt tokens per stream")->capture_default_str();
      app.add_option("--prefill-chunk", o->prefill_chunk, "Scheduler prefill chunk")->capture_default_str();
      return [o] { return run(*o); };
    }};

}  // namespace
}  // namespace autarky::cli
