// `autarky synth --preset NAME --type TYPE --out FILE [--seed N] [--vocab VOCAB.gguf]`:
// a deterministic random-weight model with the exact shapes of a real one.

#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "base/error.h"
#include "command.h"
#include "model/synth_model.h"
#include "progress_bar.h"

namespace autarky::cli {
namespace {

struct SynthArgs {
  std::string preset;
  std::string type = "F32";
  std::string out;
  std::uint64_t seed = 0;
  std::string vocab;
  int threads = 0;
};

int run_synth(const SynthArgs& a) {
  const SynthPreset* preset = find_synth_preset(a.preset);
  if (!preset) fail("unknown preset '{}'; one of: {}", a.preset, fmt::join(synth_preset_names(), ", "));
  const QuantRecipe* recipe = find_quant_recipe(a.type);
  if (!recipe) fail("unknown type '{}'; one of: {}", a.type, fmt::join(quant_recipe_names(), ", "));
  std::optional<GgufFile> vocab;
  if (!a.vocab.empty()) vocab.emplace(GgufFile::open(a.vocab));
  ProgressBar bar("synth");
  auto start = std::chrono::steady_clock::now();
  synthesize_model(*preset, *recipe, a.out,
                   {a.seed, vocab ? &*vocab : nullptr, a.threads,
                    [&](std::size_t done, std::size_t total, const std::string& name) { bar.update(done, total, name); }});
  bar.finish();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  GgufFile out = GgufFile::open(a.out);
  fmt::print(stderr, "{}: {} {} seed {}, {} tensors, {:.1f} MiB in {:.1f} s\n", a.out, preset->name, recipe->name,
             a.seed, out.tensors().size(), out.file_size() / 1048576.0, seconds);
  return 0;
}

const RegisterCommand kSynth{
    "synth", "Write a deterministic random-weight model with the shapes of a real one", [](CLI::App& app) {
      auto args = std::make_shared<SynthArgs>();
      app.add_option("--preset", args->preset, fmt::format("{}", fmt::join(synth_preset_names(), ", ")))->required();
      app.add_option("--type", args->type, "Tensor type or mix, as for quantize (default F32)");
      app.add_option("--out", args->out, "GGUF file to write (atomically)")->required();
      app.add_option("--seed", args->seed, "Random seed (default 0)");
      app.add_option("--vocab", args->vocab, "GGUF file whose tokenizer.* metadata to copy (sets the vocab size)");
      app.add_option("-t,--threads", args->threads, "Threads (0: all); the output does not depend on it");
      return [args] { return run_synth(*args); };
    }};

}  // namespace
}  // namespace autarky::cli
