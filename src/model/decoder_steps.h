#pragma once
// The building blocks the per-family forward functions are written in. Each step works on all
// tokens of the batch at once; shapes are those of ForwardScratch.

#include <cstdint>
#include <span>

#include "model/forward.h"

namespace autarky::steps {

// x[t] = embedding row of tokens[t]; x: [n_tokens][n_embd]
void embed(const Model& m, ThreadPool& pool, std::span<const std::int32_t> tokens, float* x);

// out[t] = rmsnorm(in[t]) * weight for every token; in, out: [n_tokens][n]
void rmsnorm_rows(ForwardContext& ctx, const float* in, const float* weight, std::int64_t n_tokens, std::int64_t n,
                  float eps, float* out);

// out = in * w^T (+ bias); in: [n_tokens][w.n_in], out: [n_tokens][w.n_out]
void project(ForwardContext& ctx, const WeightMatrix& w, const float* bias, const float* in, std::int64_t n_tokens,
             float* out);

// Normalises every head vector on its own: x: [n_tokens * n_heads][head_dim]; weight: [head_dim].
void rmsnorm_heads(ForwardContext& ctx, float* x, std::int64_t n_vectors, std::int64_t head_dim, const float* weight,
                   float eps);

// Copies rows [row0, row0 + n_tokens) of scratch k, v into the cache at positions
// [pos0, pos0 + n_tokens) of layer il, then attends those query rows to the cache; result in the
// same rows of scratch.att.
void attend(const Model& m, ForwardContext& ctx, KvCache& cache, std::int64_t il, std::int64_t row0,
            std::int64_t n_tokens, std::int64_t pos0);

// Steps that are per sequence in a batch (SequenceChunk i owns the rows after those of chunk i-1).
std::int64_t batch_tokens(std::span<const SequenceChunk> batch);
void embed_batch(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch, float* x);
// The cosines and sines of every row's position into scratch.rope, once per forward pass.
void rope_tables(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch);
// x: [batch_tokens][n_heads][head_dim], each row rotated by its scratch.rope row (rope_tables).
void rope_batch(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch, float* x,
                std::int64_t n_heads, std::int64_t head_dim);
void attend_batch(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch, std::int64_t il);

// x += SwiGLU feed-forward of rmsnorm(x) for layer il, in slices of kFfnSliceTokens rows.
void ffn_swiglu(const Model& m, ForwardContext& ctx, const TensorSet& layer, std::int64_t n_tokens);

// x += attention output projection of scratch.att.
void attn_output(ForwardContext& ctx, const TensorSet& layer, std::int64_t n_tokens, std::int64_t n_embd);

// Final norm and output projection for the rows each chunk asks for; logits: [rows][n_vocab].
void output_logits(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch, float* logits);

}  // namespace autarky::steps
