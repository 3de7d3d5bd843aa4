#pragma once
// Flags shared by the commands that run a model (run, chat, perplexity), with llama.cpp's names
// so the same command lines work, and the helpers that turn them into engine objects.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "sampling/sampler.h"

namespace autarky::cli {

struct ModelFlags {
  std::string model;
  int threads = 0;          // 0: physical cores
  std::int64_t n_ctx = 0;   // 0: min(4096, training context)
};

void add_model_flags(CLI::App& app, ModelFlags& f);

struct SamplingFlags {
  SamplingParams params;
  std::int64_t seed = -1;  // -1: a random seed, printed so the run can be repeated
  std::vector<std::string> stop;
  bool ignore_eos = false;
};

void add_sampling_flags(CLI::App& app, SamplingFlags& f);
// Resolves the seed (random when -1) into params.seed and returns it.
std::uint64_t resolve_seed(SamplingFlags& f);

// Context the session gets: the flag, else min(4096, training context).
std::int64_t context_size(const ModelFlags& f, std::int64_t n_ctx_train);

// Resident set size of this process in bytes (0 if unknown).
std::uint64_t resident_bytes();

}  // namespace autarky::cli
