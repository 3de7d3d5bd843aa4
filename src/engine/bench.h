#pragma once
// Throughput measurement with llama.cpp's `llama-bench` definitions, so figures can be put side
// by side with its tables:
//   ppN      a prompt of N random valid token ids evaluated in one batch (one forward call)
//   tgN      N tokens decoded one at a time (random ids, no sampling)
//   X@dD     the same after D tokens of context already in the KV cache (filled once, not timed)
// Each test is run once to warm up (page cache, scratch buffers, thread wake-up), then
// `repetitions` times; tokens/s is the mean over the repetitions of tokens / seconds.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/session.h"
#include "model/model.h"
#include "platform/thread_pool.h"

namespace autarky::bench {

struct TestSpec {
  std::int64_t n_prompt = 0;  // exactly one of n_prompt, n_gen is > 0
  std::int64_t n_gen = 0;
  std::int64_t depth = 0;

  std::string name() const;  // "pp512", "tg128", "tg128@d2048"
  std::int64_t n_tokens() const { return n_prompt + n_gen; }
};

// The tests of a llama-bench command line: for every depth, a pp test per prompt size and a tg
// test per generation size; sizes of 0 are skipped (as `-p 0` in llama-bench).
std::vector<TestSpec> plan_tests(const std::vector<std::int64_t>& prompts, const std::vector<std::int64_t>& gens,
                                 const std::vector<std::int64_t>& depths);

// KV positions a set of tests needs: max(depth + tokens).
std::int64_t context_needed(const std::vector<TestSpec>& tests);

struct MeanStddev {
  double mean = 0.0;
  double stddev = 0.0;  // sample standard deviation (n - 1); 0 for a single value
};
MeanStddev mean_stddev(const std::vector<double>& values);

struct TestResult {
  TestSpec spec;
  int n_threads = 0;
  std::vector<double> seconds;            // [repetitions] wall time of each timed run
  std::vector<double> tokens_per_second;  // [repetitions] n_tokens / seconds
  MeanStddev ts;                          // over tokens_per_second
};

// Runs tests on one model with one thread pool. The session's cache is sized for every test it
// will run; a depth's context is computed once and kept between the tests that share it (each
// run truncates back to it), which is what refilling it would give, at a fraction of the time.
class Runner {
 public:
  Runner(const Model& model, ThreadPool& pool, std::int64_t n_ctx, std::uint64_t seed);

  // One decode of a random token from an empty context (the "first token" of start-up).
  void first_token();
  TestResult run(const TestSpec& spec, int repetitions);
  std::uint64_t kv_cache_bytes() const { return session_.kv_cache_bytes(); }

 private:
  std::vector<std::int32_t> random_tokens(std::int64_t n);
  void ensure_depth(std::int64_t depth);
  void run_once(const TestSpec& spec);

  const Model& model_;
  ThreadPool& pool_;
  Session session_;
  std::mt19937_64 rng_;
  std::int64_t filled_depth_ = -1;  // the session's first filled_depth_ positions are a depth context
};

// Peak resident set size of this process so far, in bytes (0 if unknown).
std::uint64_t peak_rss_bytes();

// "Intel(R) Xeon(R) Processor" from /proc/cpuinfo, or "unknown".
std::string cpu_model_name();

// "llama 1.1B Q8_0": architecture, parameter count, and the file type named as llama-quantize
// names it (general.file_type), or the most common 2-D tensor type when that key is absent.
std::string model_type(const Model& model);
std::uint64_t model_n_params(const Model& model);

// Bytes of weights one decode step reads: every tensor of the file except the token embedding,
// of which a step reads one row (unless the output projection shares it, as tied models do).
// tg tokens/s times this is the weight read rate, comparable with memory read bandwidth.
std::uint64_t decode_weight_bytes(const Model& model);

}  // namespace autarky::bench
