// `autarky quantize IN OUT TYPE`: re-type a GGUF model (a single type or a llama.cpp-style mix).

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "base/error.h"
#include "command.h"
#include "gguf/gguf_file.h"
#include "model/quantize_model.h"
#include "progress_bar.h"

namespace autarky::cli {
namespace {

int run_quantize(const std::string& in_path, const std::string& out_path, const std::string& type_name,
                 int n_threads) {
  const QuantRecipe* recipe = find_quant_recipe(type_name);
  if (!recipe) fail("unknown type '{}'; one of: {}", type_name, fmt::join(quant_recipe_names(), ", "));
  if (in_path == out_path) fail("{}: output would overwrite the input", out_path);
  GgufFile in = GgufFile::open(in_path);
  ProgressBar bar("quantize");
  auto start = std::chrono::steady_clock::now();
  quantize_model(in, out_path, *recipe,
                 {n_threads, [&](std::size_t done, std::size_t total, const std::string& name) {
                    bar.update(done, total, name);
                  }});
  bar.finish();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  GgufFile out = GgufFile::open(out_path);
  fmt::print(stderr, "{}: {} -> {} ({:.1f} MiB -> {:.1f} MiB) in {:.1f} s\n", out_path, in_path, recipe->name,
             in.file_size() / 1048576.0, out.file_size() / 1048576.0, seconds);
  return 0;
}

const RegisterCommand kQuantize{
    "quantize", "Convert a GGUF model to another tensor type or quantization mix", [](CLI::App& app) {
      auto in = std::make_shared<std::string>();
      auto out = std::make_shared<std::string>();
      auto type = std::make_shared<std::string>();
      auto threads = std::make_shared<int>(0);
      app.add_option("input", *in, "GGUF model to read")->required();
      app.add_option("output", *out, "GGUF file to write (atomically)")->required();
      app.add_option("type", *type,
                     "F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_S/_M/_L Q4_K_S/_M Q5_K_S/_M Q6_K "
                     "(Q3_K, Q4_K, Q5_K: the _M mixes, as in llama-quantize)")
          ->required();
      app.add_option("-t,--threads", *threads, "Threads (0: all)");
      return [=] { return run_quantize(*in, *out, *type, *threads); };
    }};

}  // namespace
}  // namespace autarky::cli
