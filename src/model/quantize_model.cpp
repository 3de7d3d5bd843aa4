#include "model/quantize_model.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <vector>

#include "base/error.h"
#include "tensor/convert.h"
#include "tensor/type_traits.h"

namespace autarky {

std::vector<DType> plan_tensor_types(const GgufFile& in, const QuantRecipe& recipe) {
  std::vector<TensorPlanInput> inputs;
  inputs.reserve(in.tensors().size());
  for (const auto& t : in.tensors()) inputs.push_back({t.name, t.ne, t.type});
  int n_gqa = 1;
  if (const GgufValue* arch = in.find("general.architecture"); arch && arch->as_string()) {
    const std::string& a = *arch->as_string();
    std::int64_t n_head = in.get_int_or(a + ".attention.head_count", 0);
    std::int64_t n_head_kv = in.get_int_or(a + ".attention.head_count_kv", n_head);
    if (n_head > 0 && n_head_kv > 0) n_gqa = static_cast<int>(n_head / n_head_kv);
  }
  return plan_tensor_types(recipe, inputs, n_gqa);
}

void add_converted_tensor(GgufWriter& writer, const std::string& name, const std::vector<std::int64_t>& ne,
                          DType src_type, std::span<const std::uint8_t> src, DType dst_type, int n_threads) {
  if (src_type == dst_type) {
    writer.add_tensor(name, dst_type, ne, src);
    return;
  }
  if (!can_dequantize(src_type)) fail("tensor {}: cannot convert from {}", name, dtype_name(src_type));
  if (!can_quantize(dst_type)) fail("tensor {}: cannot convert to {}", name, dtype_name(dst_type));
  writer.add_tensor(name, dst_type, ne, [=](std::span<std::uint8_t> out) {
    std::int64_t n = 1;
    for (auto d : ne) n *= d;
    std::vector<float> values(static_cast<std::size_t>(n));  // [n_rows][ne[0]]
    dequantize(src_type, src.data(), values.data(), n, n_threads);
    quantize(dst_type, values.data(), out.data(), n / ne[0], ne[0], n_threads);
  });
}

void set_quantization_metadata(GgufWriter& writer, const QuantRecipe& recipe) {
  writer.remove("general.quantization_version");
  writer.remove("general.file_type");
  writer.set("general.quantization_version", kQuantizationVersion);
  writer.set("general.file_type", recipe.file_type);
}

std::vector<std::size_t> llama_cpp_tensor_order(const GgufFile& in) {
  auto layer_of = [](const std::string& name) {
    int layer = -1;
    std::sscanf(name.c_str(), "blk.%d.", &layer);
    return layer;
  };
  std::vector<std::size_t> order(in.tensors().size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const std::string& na = in.tensors()[a].name;
    const std::string& nb = in.tensors()[b].name;
    int la = layer_of(na), lb = layer_of(nb);
    return la != lb ? la < lb : na < nb;
  });
  return order;
}

void quantize_model(const GgufFile& in, const std::string& out_path, const QuantRecipe& recipe,
                    const QuantizeOptions& options) {
  std::vector<DType> types = plan_tensor_types(in, recipe);
  GgufWriter writer;
  writer.copy_metadata_from(in);
  set_quantization_metadata(writer, recipe);
  for (std::size_t i : llama_cpp_tensor_order(in)) {
    const GgufTensorInfo& t = in.tensors()[i];
    add_converted_tensor(writer, t.name, t.ne, t.type, t.data, types[i], options.n_threads);
  }
  writer.write(out_path, options.progress);
}

}  // namespace autarky
