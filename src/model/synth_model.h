#pragma once
// `synth`: a random-weight model of a real model's shape, for benchmarks and tests. Weights are
// drawn from a seeded generator, row by row, straight into the writer's buffer and quantized
// there, so a 7B model never needs more than one tensor's output bytes plus a few rows of f32.
// The same preset, type, seed and vocabulary always give the same bytes.

#include <cstdint>
#include <string>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "model/quantize_recipes.h"
#include "model/synth_presets.h"

namespace autarky {

struct SynthOptions {
  std::uint64_t seed = 0;
  const GgufFile* vocab = nullptr;  // tokenizer.* keys are copied from here; null: synthetic vocab
  int n_threads = 0;                // 0: all hardware threads (the output does not depend on it)
  GgufWriter::Progress progress;
};

void synthesize_model(const SynthPreset& preset, const QuantRecipe& recipe, const std::string& out_path,
                      const SynthOptions& options);

}  // namespace autarky
