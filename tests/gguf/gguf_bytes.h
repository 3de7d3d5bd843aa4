#pragma once
// Hand-serialised GGUF files for parser tests. Everything GgufWriter would get right by
// construction (counts, offsets, alignment, types) can be set to a wrong value here, so each
// test corrupts exactly one field of an otherwise valid file.

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace autarky::test {

// Little-endian byte sink.
class ByteWriter {
 public:
  template <typename T>
  ByteWriter& put(T value) {
    std::uint8_t raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    bytes.insert(bytes.end(), raw, raw + sizeof(T));
    return *this;
  }
  ByteWriter& u32(std::uint32_t v) { return put(v); }
  ByteWriter& u64(std::uint64_t v) { return put(v); }
  ByteWriter& str(std::string_view s) {
    u64(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  ByteWriter& raw(const std::vector<std::uint8_t>& b) {
    bytes.insert(bytes.end(), b.begin(), b.end());
    return *this;
  }
  ByteWriter& zeros(std::size_t n) {
    bytes.insert(bytes.end(), n, 0);
    return *this;
  }
  std::vector<std::uint8_t> bytes;
};

// GGUF value type ids, as in the specification.
enum : std::uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kStr = 8, kArr = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

// One encoded metadata entry: key, type id, then the payload the caller wrote.
inline std::vector<std::uint8_t> kv(std::string_view key, std::uint32_t type, const ByteWriter& payload) {
  ByteWriter w;
  w.str(key).u32(type).raw(payload.bytes);
  return w.bytes;
}
template <typename T>
std::vector<std::uint8_t> kv_scalar(std::string_view key, std::uint32_t type, T value) {
  ByteWriter p;
  p.put(value);
  return kv(key, type, p);
}
inline std::vector<std::uint8_t> kv_u32(std::string_view key, std::uint32_t v) { return kv_scalar(key, kU32, v); }
inline std::vector<std::uint8_t> kv_str(std::string_view key, std::string_view s) {
  ByteWriter p;
  p.str(s);
  return kv(key, kStr, p);
}

struct TensorSpec {
  std::string name;
  std::vector<std::uint64_t> ne;
  std::uint32_t type = 0;  // F32
  std::optional<std::uint64_t> offset;  // default: running sum of padded sizes
  std::optional<std::uint32_t> n_dims;  // default: ne.size()
  std::uint64_t data_bytes = 0;         // bytes of data this tensor needs (for the default layout)
};

struct FileSpec {
  std::uint32_t magic = 0x46554747;
  std::uint32_t version = 3;
  std::optional<std::uint64_t> n_tensors;  // default: tensors.size()
  std::optional<std::uint64_t> n_kv;       // default: kvs.size()
  std::vector<std::vector<std::uint8_t>> kvs;
  std::vector<TensorSpec> tensors;
  std::uint64_t alignment = 32;  // used for layout only; add a general.alignment kv to declare it
  std::int64_t data_size_delta = 0;  // grow (+) or cut (-) the data section
};

// F32 tensor of the given shape with its data size filled in.
inline TensorSpec f32_tensor(std::string name, std::vector<std::uint64_t> ne) {
  std::uint64_t n = 1;
  for (auto d : ne) n *= d;
  return TensorSpec{std::move(name), std::move(ne), 0, std::nullopt, std::nullopt, n * 4};
}

inline std::uint64_t pad_up(std::uint64_t n, std::uint64_t a) { return (n + a - 1) / a * a; }

// Serialises the spec; tensor data is a deterministic byte pattern so round trips can be checked.
inline std::vector<std::uint8_t> build_gguf(const FileSpec& spec) {
  ByteWriter w;
  w.u32(spec.magic).u32(spec.version);
  w.u64(spec.n_tensors.value_or(spec.tensors.size()));
  w.u64(spec.n_kv.value_or(spec.kvs.size()));
  for (const auto& e : spec.kvs) w.raw(e);
  std::uint64_t offset = 0;
  std::uint64_t data_end = 0;
  for (const auto& t : spec.tensors) {
    w.str(t.name).u32(t.n_dims.value_or(static_cast<std::uint32_t>(t.ne.size())));
    for (auto d : t.ne) w.u64(d);
    w.u32(t.type).u64(t.offset.value_or(offset));
    if (!t.offset) {  // an overridden offset is a corruption: it does not move the real layout
      offset = pad_up(offset + t.data_bytes, spec.alignment);
      data_end = offset;
    }
  }
  w.zeros(pad_up(w.bytes.size(), spec.alignment) - w.bytes.size());
  std::int64_t data_size = static_cast<std::int64_t>(data_end) + spec.data_size_delta;
  for (std::int64_t i = 0; i < data_size; ++i) w.put(static_cast<std::uint8_t>(i * 131 + 7));
  return w.bytes;
}

}  // namespace autarky::test
