// `autarky bench -m MODEL [-p 512] [-n 128] [-t THREADS] [-d DEPTH] [-r REPS] [--json]`:
// prompt-processing and generation throughput with llama-bench's definitions (engine/bench.h),
// with what it ran on: machine, instruction set, threads, model and commit. Lists are accepted
// as in llama-bench (-p 128,512 -d 0,2048 -t 1,2); every combination is a test.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include "base/error.h"
#include "command.h"
#include "engine/bench.h"
#include "git_commit.h"
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "platform/cpu_features.h"

namespace autarky::cli {
namespace {

struct BenchArgs {
  std::string model;
  std::vector<std::int64_t> prompts{512};
  std::vector<std::int64_t> gens{128};
  std::vector<std::int64_t> depths{0};
  std::vector<int> threads;  // empty: physical cores
  int repetitions = 5;
  std::uint64_t seed = 1234;
  bool json = false;
};

// What the whole run shares: machine, build, model.
struct RunInfo {
  std::string commit = AUTARKY_GIT_COMMIT;
  std::string date;
  std::string cpu;
  int cores = 0;
  unsigned logical_cpus = 0;
  std::string load_average;
  std::string isa;
  std::string cpu_features;
  std::string model_path;
  std::string model_type;
  std::uint64_t model_size = 0;
  std::uint64_t model_n_params = 0;
  std::uint64_t decode_weight_bytes = 0;  // weights one decode step reads (bench::decode_weight_bytes)
  std::map<std::string, std::string> matmul_kernels;  // weight type -> kernel name
  double load_seconds = 0.0;         // mmap + validation + binding
  double first_token_seconds = 0.0;  // one decode from an empty context
  std::uint64_t kv_cache_bytes = 0;
};

void validate(const BenchArgs& a) {
  for (std::int64_t p : a.prompts) {
    if (p < 0) fail("-p {}: prompt sizes must be >= 0", p);
  }
  for (std::int64_t n : a.gens) {
    if (n < 0) fail("-n {}: generation sizes must be >= 0", n);
  }
  for (std::int64_t d : a.depths) {
    if (d < 0) fail("-d {}: depths must be >= 0", d);
  }
  for (int t : a.threads) {
    if (t < 1) fail("-t {}: thread counts must be >= 1", t);
  }
  if (a.repetitions < 1) fail("-r {}: at least one repetition is needed", a.repetitions);
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  double one = 0, five = 0, fifteen = 0;
  if (!(in >> one >> five >> fifteen)) return "unknown";
  return fmt::format("{:.2f} {:.2f} {:.2f}", one, five, fifteen);
}

std::string human_size(std::uint64_t bytes) {
  if (bytes >= (1ull << 30)) return fmt::format("{:.2f} GiB", bytes / double(1ull << 30));
  return fmt::format("{:.2f} MiB", bytes / double(1ull << 20));
}

std::string human_params(std::uint64_t n) {
  if (n >= 1'000'000'000) return fmt::format("{:.2f} B", n / 1e9);
  return fmt::format("{:.2f} M", n / 1e6);
}

nlohmann::ordered_json result_json(const RunInfo& info, const bench::TestResult& r, std::uint64_t peak_rss) {
  nlohmann::ordered_json j;
  j["test"] = r.spec.name();
  j["n_prompt"] = r.spec.n_prompt;
  j["n_gen"] = r.spec.n_gen;
  j["n_depth"] = r.spec.depth;
  j["n_threads"] = r.n_threads;
  j["tokens_per_second"] = r.ts.mean;
  j["stddev"] = r.ts.stddev;
  j["samples_ts"] = r.tokens_per_second;
  j["samples_seconds"] = r.seconds;
  j["repetitions"] = r.seconds.size();
  j["isa"] = info.isa;
  j["cpu_features"] = info.cpu_features;
  j["matmul_kernels"] = info.matmul_kernels;
  j["cpu_info"] = info.cpu;
  j["n_cores"] = info.cores;
  j["n_logical_cpus"] = info.logical_cpus;
  j["load_average"] = info.load_average;
  j["commit"] = info.commit;
  j["date"] = info.date;
  j["model_filename"] = info.model_path;
  j["model_type"] = info.model_type;
  j["model_size"] = info.model_size;
  j["model_n_params"] = info.model_n_params;
  j["decode_weight_bytes"] = info.decode_weight_bytes;
  j["kv_cache_bytes"] = info.kv_cache_bytes;
  j["peak_rss_bytes"] = peak_rss;
  j["load_seconds"] = info.load_seconds + info.first_token_seconds;
  j["first_token_seconds"] = info.first_token_seconds;
  return j;
}

void print_header(const RunInfo& info) {
  fmt::print("autarky bench, commit {}, {}\n", info.commit, info.date);
  fmt::print("machine: {}, {} cores ({} logical CPUs), load average {}\n", info.cpu, info.cores, info.logical_cpus,
             info.load_average);
  fmt::print("isa: {} (cpu features: {})\n", info.isa, info.cpu_features);
  std::string kernels;
  for (const auto& [type, name] : info.matmul_kernels) kernels += fmt::format("{}{}: {}", kernels.empty() ? "" : ", ", type, name);
  fmt::print("model: {}: {}, {}, {} params; matmul kernels {}\n", info.model_path, info.model_type,
             human_size(info.model_size), human_params(info.model_n_params), kernels);
  fmt::print("start-up {:.3f} s (load {:.3f} s + first token {:.3f} s); KV cache {:.1f} MiB\n\n",
             info.load_seconds + info.first_token_seconds, info.load_seconds, info.first_token_seconds,
             info.kv_cache_bytes / 1048576.0);
  fmt::print("| model | size | params | isa | threads | test | t/s | peak RSS |\n");
  fmt::print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |\n");
  std::fflush(stdout);
}

void print_row(const RunInfo& info, const bench::TestResult& r, std::uint64_t peak_rss) {
  fmt::print("| {} | {} | {} | {} | {} | {} | {:.2f} ± {:.2f} | {} |\n", info.model_type, human_size(info.model_size),
             human_params(info.model_n_params), info.isa, r.n_threads, r.spec.name(), r.ts.mean, r.ts.stddev,
             human_size(peak_rss));
  std::fflush(stdout);
}

int run_bench(BenchArgs& a) {
  validate(a);
  const std::vector<bench::TestSpec> tests = bench::plan_tests(a.prompts, a.gens, a.depths);
  if (tests.empty()) fail("nothing to run: every -p and -n size is 0");
  if (a.threads.empty()) a.threads.push_back(physical_core_count());

  RunInfo info;
  info.date = utc_now();
  info.cpu = bench::cpu_model_name();
  info.cores = physical_core_count();
  info.logical_cpus = std::thread::hardware_concurrency();
  info.load_average = load_average();
  info.isa = std::string(isa_name(default_isa()));
  info.cpu_features = cpu_features().describe();

  const auto load_start = std::chrono::steady_clock::now();
  Model model = Model::load(a.model);
  info.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  info.model_path = a.model;
  info.model_type = bench::model_type(model);
  info.model_size = model.file().file_size();
  info.model_n_params = bench::model_n_params(model);
  info.decode_weight_bytes = bench::decode_weight_bytes(model);
  for (const auto& t : model.file().tensors()) {
    if (t.ne.size() >= 2) info.matmul_kernels[std::string(dtype_name(t.type))] = select_matmul_kernel(t.type).name;
  }
  const std::int64_t n_ctx = bench::context_needed(tests);

  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  bool header_printed = false;
  for (int n_threads : a.threads) {
    ThreadPool pool(n_threads);
    bench::Runner runner(model, pool, n_ctx, a.seed);
    const auto first_start = std::chrono::steady_clock::now();
    runner.first_token();
    if (!header_printed) {
      // Start-up as a user sees it: the first thread count's first token right after loading.
      info.first_token_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - first_start).count();
      info.kv_cache_bytes = runner.kv_cache_bytes();
      if (!a.json) print_header(info);
      header_printed = true;
      // The weights repacked in the background after loading: throughput is measured once they
      // all are (the first token above ran while they were being repacked, as a user's does).
      model.wait_until_repacked();
    }
    for (const bench::TestSpec& spec : tests) {
      const bench::TestResult r = runner.run(spec, a.repetitions);
      const std::uint64_t rss = bench::peak_rss_bytes();
      if (a.json) {
        all.push_back(result_json(info, r, rss));
        fmt::print(stderr, "bench: {} t={} {:.2f} ± {:.2f} t/s\n", spec.name(), r.n_threads, r.ts.mean, r.ts.stddev);
      } else {
        print_row(info, r, rss);
      }
    }
  }
  if (a.json) fmt::print("{}\n", all.dump(2));
  return 0;
}

const RegisterCommand kBench{
    "bench", "Measure prompt (pp) and generation (tg) throughput, llama-bench style", [](CLI::App& app) {
      auto a = std::make_shared<BenchArgs>();
      app.add_option("-m,--model", a->model, "GGUF model")->required();
      app.add_option("-p,--n-prompt", a->prompts, "Prompt sizes (pp tests), comma-separated; 0 = none")
          ->delimiter(',')
          ->capture_default_str();
      app.add_option("-n,--n-gen", a->gens, "Generation sizes (tg tests), comma-separated; 0 = none")
          ->delimiter(',')
          ->capture_default_str();
      app.add_option("-d,--n-depth", a->depths, "Context depths filled before each test, comma-separated")
          ->delimiter(',')
          ->capture_default_str();
      app.add_option("-t,--threads", a->threads, "Thread counts, comma-separated (default: physical cores)")
          ->delimiter(',');
      app.add_option("-r,--repetitions", a->repetitions, "Timed runs per test (after one warm-up run)")
          ->capture_default_str();
      app.add_option("--seed", a->seed, "Seed of the random token ids")->capture_default_str();
      app.add_flag("--json", a->json, "Print a JSON array, one object per test (progress on stderr)");
      return [a] { return run_bench(*a); };
    }};

}  // namespace
}  // namespace autarky::cli
