// Writes the small valid GGUF seeds in fuzz/seeds. Rebuild and rerun by hand if the format grows:
//   g++ -std=c++20 -I tests fuzz/seeds/make_seeds.cpp -o /tmp/make_seeds && /tmp/make_seeds fuzz/seeds
#include <fstream>
#include "gguf/gguf_bytes.h"
using namespace autarky::test;
static void save(const char* path, const std::vector<std::uint8_t>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
}
int main(int, char** argv) {
  std::string dir = argv[1];
  {  // every metadata value type, nested arrays, a declared alignment
    FileSpec s;
    s.alignment = 64;
    s.kvs.push_back(kv_str("general.architecture", "llama"));
    s.kvs.push_back(kv_u32("general.alignment", 64));
    s.kvs.push_back(kv_scalar<std::uint8_t>("a.u8", kU8, 1));
    s.kvs.push_back(kv_scalar<std::int8_t>("a.i8", kI8, -1));
    s.kvs.push_back(kv_scalar<std::uint16_t>("a.u16", kU16, 2));
    s.kvs.push_back(kv_scalar<std::int16_t>("a.i16", kI16, -2));
    s.kvs.push_back(kv_scalar<std::int32_t>("a.i32", kI32, -3));
    s.kvs.push_back(kv_scalar<float>("a.f32", kF32, 0.5f));
    s.kvs.push_back(kv_scalar<std::uint8_t>("a.bool", kBool, 1));
    s.kvs.push_back(kv_scalar<std::uint64_t>("a.u64", kU64, 4));
    s.kvs.push_back(kv_scalar<std::int64_t>("a.i64", kI64, -4));
    s.kvs.push_back(kv_scalar<double>("a.f64", kF64, 0.25));
    ByteWriter strs; strs.u32(kStr).u64(3).str("<s>").str("").str("\xe2\x96\x81hi");
    s.kvs.push_back(kv("tokenizer.ggml.tokens", kArr, strs));
    ByteWriter nested; nested.u32(kArr).u64(2);
    nested.u32(kI32).u64(1).put<std::int32_t>(7);
    nested.u32(kArr).u64(1).u32(kF32).u64(1).put(1.0f);
    s.kvs.push_back(kv("a.nested", kArr, nested));
    s.tensors.push_back(f32_tensor("token_embd.weight", {8, 3}));
    s.tensors.push_back(f32_tensor("output_norm.weight", {8}));
    save((dir + "/every-value-type.gguf").c_str(), build_gguf(s));
  }
  {  // one row of 256 elements of every type the engine computes with
    struct T { const char* name; std::uint32_t id; std::uint64_t block; std::uint64_t bytes; };
    const T types[] = {{"f32", 0, 1, 4}, {"f16", 1, 1, 2}, {"bf16", 30, 1, 2}, {"q4_0", 2, 32, 18},
                       {"q4_1", 3, 32, 20}, {"q5_0", 6, 32, 22}, {"q5_1", 7, 32, 24}, {"q8_0", 8, 32, 34},
                       {"q2_k", 10, 256, 84}, {"q3_k", 11, 256, 110}, {"q4_k", 12, 256, 144},
                       {"q5_k", 13, 256, 176}, {"q6_k", 14, 256, 210}, {"q8_k", 15, 256, 292}};
    FileSpec s;
    s.kvs.push_back(kv_str("general.architecture", "llama"));
    for (const T& t : types) {
      TensorSpec ts{std::string("t.") + t.name, {256, 1}, t.id, std::nullopt, std::nullopt, 256 / t.block * t.bytes};
      s.tensors.push_back(ts);
    }
    save((dir + "/every-tensor-type.gguf").c_str(), build_gguf(s));
  }
}
