#pragma once
// Converts a GGUF model to another tensor type or mix (see quantize_recipes.h), one tensor at a
// time: each tensor is dequantized to f32 (if it is not already) and quantized straight into
// the writer's buffer, so memory stays at about one f32 tensor plus one output tensor.

#include <functional>
#include <string>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "model/quantize_recipes.h"

namespace autarky {

// The llama.cpp quantization format version that K-quant and legacy blocks follow.
constexpr std::uint32_t kQuantizationVersion = 2;

struct QuantizeOptions {
  int n_threads = 0;                // 0: all hardware threads
  GgufWriter::Progress progress;    // optional, called after each tensor
};

// The type each tensor of `in` gets under `recipe`.
std::vector<DType> plan_tensor_types(const GgufFile& in, const QuantRecipe& recipe);

// The order llama.cpp's quantizer writes tensors in: non-layer tensors by name, then layer by
// layer (blk.N numerically), by name within a layer. Indices into in.tensors().
std::vector<std::size_t> llama_cpp_tensor_order(const GgufFile& in);

// Writes `in` re-typed per `recipe` to out_path (atomically), tensors in llama_cpp_tensor_order
// so that our output can be compared with llama.cpp's byte for byte. Metadata is copied, with
// general.file_type and general.quantization_version set as llama.cpp sets them.
void quantize_model(const GgufFile& in, const std::string& out_path, const QuantRecipe& recipe,
                    const QuantizeOptions& options = {});

// Adds one tensor to `writer`, converting from `src` (type src_type, shape ne) to `dst_type` on
// demand. Identical types are copied byte for byte. Shared with `synth`.
void add_converted_tensor(GgufWriter& writer, const std::string& name, const std::vector<std::int64_t>& ne,
                          DType src_type, std::span<const std::uint8_t> src, DType dst_type, int n_threads);

// Sets general.file_type / general.quantization_version the way llama.cpp's quantizer does
// (removed and re-appended, so they end the metadata in that order).
void set_quantization_metadata(GgufWriter& writer, const QuantRecipe& recipe);

}  // namespace autarky
