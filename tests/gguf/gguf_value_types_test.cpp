// The reader on valid hand-made files: both format versions, every metadata value type
// (including arrays of strings and nested arrays) and a declared alignment.

#include <gtest/gtest.h>

#include <cmath>

#include "base/error.h"
#include "gguf/gguf_bytes.h"
#include "gguf/gguf_file.h"

namespace autarky {
namespace {

using test::build_gguf;
using test::ByteWriter;
using test::FileSpec;

FileSpec every_value_type() {
  FileSpec s;
  s.kvs.push_back(test::kv_scalar<std::uint8_t>("v.u8", test::kU8, 200));
  s.kvs.push_back(test::kv_scalar<std::int8_t>("v.i8", test::kI8, -100));
  s.kvs.push_back(test::kv_scalar<std::uint16_t>("v.u16", test::kU16, 60000));
  s.kvs.push_back(test::kv_scalar<std::int16_t>("v.i16", test::kI16, -30000));
  s.kvs.push_back(test::kv_scalar<std::uint32_t>("v.u32", test::kU32, 4000000000u));
  s.kvs.push_back(test::kv_scalar<std::int32_t>("v.i32", test::kI32, -2000000000));
  s.kvs.push_back(test::kv_scalar<float>("v.f32", test::kF32, 1.5e-5f));
  s.kvs.push_back(test::kv_scalar<std::uint8_t>("v.bool", test::kBool, 1));
  s.kvs.push_back(test::kv_str("v.str", "h\xc3\xa9llo"));
  s.kvs.push_back(test::kv_scalar<std::uint64_t>("v.u64", test::kU64, 18000000000000000000ull));
  s.kvs.push_back(test::kv_scalar<std::int64_t>("v.i64", test::kI64, -9000000000000000000ll));
  s.kvs.push_back(test::kv_scalar<double>("v.f64", test::kF64, 2.718281828459045));
  ByteWriter strings;
  strings.u32(test::kStr).u64(3).str("a").str("").str("<0x0A>");
  s.kvs.push_back(test::kv("v.arr_str", test::kArr, strings));
  ByteWriter floats;
  floats.u32(test::kF32).u64(2).put(-1.0f).put(0.25f);
  s.kvs.push_back(test::kv("v.arr_f32", test::kArr, floats));
  ByteWriter nested;  // [[1, 2], [], [3]] as i32
  nested.u32(test::kArr).u64(3);
  nested.u32(test::kI32).u64(2).put<std::int32_t>(1).put<std::int32_t>(2);
  nested.u32(test::kI32).u64(0);
  nested.u32(test::kI32).u64(1).put<std::int32_t>(3);
  s.kvs.push_back(test::kv("v.arr_nested", test::kArr, nested));
  ByteWriter empty;
  empty.u32(test::kU8).u64(0);
  s.kvs.push_back(test::kv("v.arr_empty", test::kArr, empty));
  s.tensors.push_back(test::f32_tensor("t", {4, 2}));
  return s;
}

void check_every_value_type(const GgufFile& f) {
  EXPECT_EQ(f.find("v.u8")->type(), GgufType::UINT8);
  EXPECT_EQ(f.get_int("v.u8"), 200);
  EXPECT_EQ(f.get_int("v.i8"), -100);
  EXPECT_EQ(f.get_int("v.u16"), 60000);
  EXPECT_EQ(f.get_int("v.i16"), -30000);
  EXPECT_EQ(f.get_int("v.u32"), 4000000000ll);
  EXPECT_EQ(f.get_int("v.i32"), -2000000000);
  EXPECT_EQ(f.find("v.f32")->type(), GgufType::FLOAT32);
  EXPECT_FLOAT_EQ(static_cast<float>(f.get_float("v.f32")), 1.5e-5f);
  EXPECT_TRUE(f.get_bool("v.bool"));
  EXPECT_EQ(f.get_string("v.str"), "h\xc3\xa9llo");
  EXPECT_EQ(*f.find("v.u64")->as_uint(), 18000000000000000000ull);
  EXPECT_EQ(f.get_int("v.i64"), -9000000000000000000ll);
  EXPECT_DOUBLE_EQ(f.get_float("v.f64"), 2.718281828459045);
  EXPECT_EQ(f.get_string_array("v.arr_str"), (std::vector<std::string>{"a", "", "<0x0A>"}));
  EXPECT_EQ(f.get_float_array("v.arr_f32"), (std::vector<double>{-1.0, 0.25}));
  const GgufArray* nested = f.find("v.arr_nested")->as_array();
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->elem_type, GgufType::ARRAY);
  ASSERT_EQ(nested->items.size(), 3u);
  EXPECT_EQ(nested->items[0].as_array()->items.size(), 2u);
  EXPECT_EQ(nested->items[0].as_array()->items[1], GgufValue(std::int32_t{2}));
  EXPECT_TRUE(nested->items[1].as_array()->items.empty());
  EXPECT_EQ(nested->items[2].as_array()->items[0], GgufValue(std::int32_t{3}));
  EXPECT_TRUE(f.find("v.arr_empty")->as_array()->items.empty());
  const auto& t = f.tensor("t");
  EXPECT_EQ(t.ne, (std::vector<std::int64_t>{4, 2}));
  EXPECT_EQ(t.n_bytes, 32u);
}

TEST(GgufValueTypes, Version3EveryType) {
  auto bytes = build_gguf(every_value_type());
  GgufFile f = GgufFile::parse(bytes, "v3.gguf");
  EXPECT_EQ(f.version(), 3u);
  check_every_value_type(f);
}

TEST(GgufValueTypes, Version2EveryType) {
  FileSpec s = every_value_type();
  s.version = 2;  // v2 has the same 64-bit counts and lengths as v3
  auto bytes = build_gguf(s);
  GgufFile f = GgufFile::parse(bytes, "v2.gguf");
  EXPECT_EQ(f.version(), 2u);
  check_every_value_type(f);
}

TEST(GgufValueTypes, TypedGettersRejectWrongTypes) {
  auto bytes = build_gguf(every_value_type());
  GgufFile f = GgufFile::parse(bytes, "v3.gguf");
  EXPECT_THROW(f.get_string("v.u32"), Error);
  EXPECT_THROW(f.get_int("v.str"), Error);
  EXPECT_THROW(f.get_bool("v.u8"), Error);
  EXPECT_THROW(f.get_string_array("v.arr_f32"), Error);
  EXPECT_THROW(f.get_int("missing.key"), Error);
  EXPECT_EQ(f.get_int_or("missing.key", 7), 7);
}

TEST(GgufValueTypes, CustomAlignment) {
  for (std::uint32_t align : {1u, 8u, 64u, 4096u}) {
    FileSpec s;
    s.alignment = align;
    s.kvs.push_back(test::kv_u32("general.alignment", align));
    s.tensors.push_back(test::f32_tensor("a", {3}));  // 12 bytes: the next tensor needs padding
    s.tensors.push_back(test::f32_tensor("b", {5, 2}));
    auto bytes = build_gguf(s);
    GgufFile f = GgufFile::parse(bytes, "aligned.gguf");
    EXPECT_EQ(f.alignment(), align);
    EXPECT_EQ(f.data_offset() % align, 0u);
    EXPECT_EQ(f.tensor("b").offset, test::pad_up(12, align));
    // The data is where the builder put it: its byte pattern continues across the padding.
    std::uint64_t b_at = f.tensor("b").offset;
    EXPECT_EQ(f.tensor("b").data[0], static_cast<std::uint8_t>(b_at * 131 + 7));
  }
}

TEST(GgufValueTypes, DefaultAlignmentRejectsOffsetAlignedOnlyToCustom) {
  FileSpec s;
  s.alignment = 16;  // layout for 16, but no general.alignment key: the reader assumes 32
  s.tensors.push_back(test::f32_tensor("a", {3}));
  s.tensors.push_back(test::f32_tensor("b", {4}));
  EXPECT_THROW(GgufFile::parse(build_gguf(s), "a16.gguf"), Error);
}

TEST(GgufValueTypes, NoTensors) {
  FileSpec s;
  s.kvs.push_back(test::kv_str("tokenizer.ggml.model", "llama"));
  auto bytes = build_gguf(s);
  GgufFile f = GgufFile::parse(bytes, "vocab.gguf");
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
}

}  // namespace
}  // namespace autarky
