// libFuzzer target for the GGUF reader. Any input must either throw autarky::Error or give a
// GgufFile whose every promise holds: each tensor's data span lies inside the input, metadata
// values can be rendered and read through the typed getters, and the first row of every tensor
// we can compute with dequantizes without touching memory it should not.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/error.h"
#include "gguf/gguf_file.h"
#include "tensor/convert.h"
#include "tensor/type_traits.h"

namespace {

void touch_metadata(const autarky::GgufFile& f) {
  for (const auto& kv : f.metadata()) {
    (void)kv.value.to_display();
    try {
      if (const auto* a = kv.value.as_array()) {
        if (a->elem_type == autarky::GgufType::STRING) (void)f.get_string_array(kv.key);
        (void)f.get_int_array(kv.key);
      } else if (kv.value.is_number()) {
        (void)f.get_float(kv.key);
        (void)f.get_int(kv.key);
      } else {
        (void)f.get_string(kv.key);
      }
    } catch (const autarky::Error&) {
      // Wrong-type reads are expected to throw; only crashes count.
    }
  }
}

std::uint64_t touch_tensors(const autarky::GgufFile& f, std::span<const std::uint8_t> input) {
  std::uint64_t checksum = 0;
  std::vector<float> row;
  for (const auto& t : f.tensors()) {
    if (t.data.size() != t.n_bytes || t.data.data() < input.data() ||
        t.data.data() + t.data.size() > input.data() + input.size()) {
      __builtin_trap();  // the reader promised a span inside the file
    }
    for (std::uint8_t b : t.data) checksum += b;
    const std::int64_t row_len = t.dim(0);
    if (autarky::can_dequantize(t.type) && row_len <= 4096) {
      row.resize(static_cast<std::size_t>(row_len));
      autarky::dequantize(t.type, t.data.data(), row.data(), row_len, 1);
    }
  }
  return checksum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> input(data, size);
  try {
    autarky::GgufFile f = autarky::GgufFile::parse(input, "fuzz-input");
    touch_metadata(f);
    volatile std::uint64_t sink = touch_tensors(f, input);
    (void)sink;
  } catch (const autarky::Error&) {
    // Rejected input: the expected outcome for almost everything the fuzzer makes.
  }
  return 0;
}
