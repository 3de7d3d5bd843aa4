#pragma once
// Scalar reference implementations of the element-wise and normalisation ops of a transformer
// block. Shapes are in the comments; every op works on caller-owned buffers.

#include <cstdint>
#include <span>

namespace autarky::ref {

// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]; x, weight, out: [n]. out may alias x.
void rmsnorm(const float* x, const float* weight, std::int64_t n, float eps, float* out);

// In-place numerically stable softmax over x: [n].
void softmax(float* x, std::int64_t n);

// gate[i] = silu(gate[i]) * up[i]; gate, up: [n]. The SwiGLU feed-forward activation.
void swiglu(float* gate, const float* up, std::int64_t n);

// x[i] += b[i]; x, b: [n]
void add(float* x, const float* b, std::int64_t n);

// How the rotated dimensions of a head are paired.
enum class RopeStyle {
  kNormal,  // adjacent pairs (0,1), (2,3), ... (original Llama / GPT-J layout)
  kNeox,    // halves: (i, i + n_rot/2) (GPT-NeoX, Qwen)
};

// Rotation frequencies of one model: inv_freq[i] is the angle per position of pair i, with any
// per-pair frequency factors and linear position scaling already folded in. [n_rot / 2]
struct RopeParams {
  RopeStyle style = RopeStyle::kNormal;
  std::int64_t n_rot = 0;     // rotated dimensions per head (<= head_dim); the rest pass through
  std::span<const float> inv_freq;
};

// Rotates every head of x: [n_heads][head_dim] for position pos.
void rope(float* x, std::int64_t n_heads, std::int64_t head_dim, std::int64_t pos, const RopeParams& p);

}  // namespace autarky::ref
