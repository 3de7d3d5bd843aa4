// GgufWriter: what it writes reads back identically, is laid out the way llama.cpp's loader
// insists on, reproduces llama.cpp-written files byte for byte, and is all-or-nothing.

#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>

#include "base/error.h"
#include "gguf/gguf_bytes.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "test_support.h"

namespace autarky {
namespace {

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 37 + seed);
  return v;
}

std::vector<GgufKeyValue> every_type() {
  GgufArray inner{GgufType::INT32, {std::int32_t{1}, std::int32_t{2}}};
  return {
      {"general.architecture", std::string("llama")},
      {"v.u8", std::uint8_t{7}},
      {"v.i8", std::int8_t{-7}},
      {"v.u16", std::uint16_t{65535}},
      {"v.i16", std::int16_t{-32768}},
      {"v.u32", std::uint32_t{123456789}},
      {"v.i32", std::int32_t{-123456789}},
      {"v.f32", 0.125f},
      {"v.bool", true},
      {"v.u64", std::uint64_t{1} << 63},
      {"v.i64", std::int64_t{-1}},
      {"v.f64", 1e-300},
      {"v.strings", GgufArray{GgufType::STRING, {std::string("x"), std::string(""), std::string("zz")}}},
      {"v.nested", GgufArray{GgufType::ARRAY, {inner, GgufArray{GgufType::INT32, {}}}}},
  };
}

void set_every_type(GgufWriter& w) {
  for (const auto& kv : every_type()) w.set(kv.key, kv.value);
}

// Bytes of one encoded metadata value, computed from the spec rather than from the writer.
std::uint64_t encoded_size(const GgufValue& v) {
  if (const auto* s = v.as_string()) return 8 + s->size();
  if (const auto* a = v.as_array()) {
    std::uint64_t n = 4 + 8;
    for (const auto& item : a->items) n += encoded_size(item);
    return n;
  }
  static constexpr std::uint64_t kScalarSizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  return kScalarSizes[static_cast<int>(v.type())];
}

TEST(GgufWriter, RoundTripsMetadataAndTensors) {
  test::TempDir dir;
  GgufWriter w;
  set_every_type(w);
  w.set("v.u32", std::uint32_t{42});  // replacing keeps the first position
  auto a = pattern(4 * 5 * 3, 1);
  auto b = pattern(18 * 4, 2);  // Q4_0: 4 blocks of 32 elements
  auto c = pattern(2 * 14, 3);  // F16
  w.add_tensor("a", DType::F32, {5, 3}, a);
  w.add_tensor("b", DType::Q4_0, {64, 2}, b);
  w.add_tensor("c", DType::F16, {7, 1, 2}, c);
  auto path = (dir / "rt.gguf").string();
  w.write(path);

  GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.version(), 3u);
  ASSERT_EQ(f.metadata().size(), 14u);
  EXPECT_EQ(f.metadata()[5].key, "v.u32");
  EXPECT_EQ(f.get_int("v.u32"), 42);
  auto expected = every_type();
  expected[5].value = std::uint32_t{42};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(f.metadata()[i].key, expected[i].key);
    EXPECT_TRUE(f.metadata()[i].value == expected[i].value) << expected[i].key;
  }
  EXPECT_EQ(f.get_string_array("v.strings"), (std::vector<std::string>{"x", "", "zz"}));
  EXPECT_EQ(f.find("v.nested")->as_array()->items[0].as_array()->items.size(), 2u);
  EXPECT_EQ(*f.find("v.u64")->as_uint(), std::uint64_t{1} << 63);
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.tensors()[0].name, "a");
  EXPECT_EQ(f.tensors()[1].type, DType::Q4_0);
  EXPECT_EQ(f.tensors()[2].ne, (std::vector<std::int64_t>{7, 1, 2}));
  EXPECT_TRUE(std::equal(a.begin(), a.end(), f.tensor("a").data.begin(), f.tensor("a").data.end()));
  EXPECT_TRUE(std::equal(b.begin(), b.end(), f.tensor("b").data.begin(), f.tensor("b").data.end()));
  EXPECT_TRUE(std::equal(c.begin(), c.end(), f.tensor("c").data.begin(), f.tensor("c").data.end()));
}

// llama.cpp's loader recomputes every offset as the running sum of sizes padded to the
// alignment, in tensor-info order, and expects the data right after the padded infos.
void expect_llama_cpp_layout(const std::string& path) {
  GgufFile f = GgufFile::open(path);
  const std::uint64_t align = f.alignment();
  std::uint64_t infos_end = 4 + 4 + 8 + 8;
  for (const auto& kv : f.metadata()) infos_end += 8 + kv.key.size() + 4 + encoded_size(kv.value);
  for (const auto& t : f.tensors()) infos_end += 8 + t.name.size() + 4 + 8 * t.ne.size() + 4 + 8;
  EXPECT_EQ(f.data_offset(), test::pad_up(infos_end, align));
  std::uint64_t expected_offset = 0;
  for (const auto& t : f.tensors()) {
    EXPECT_EQ(t.offset, expected_offset) << t.name;
    expected_offset += test::pad_up(t.n_bytes, align);
  }
  EXPECT_EQ(f.file_size(), f.data_offset() + expected_offset);
  // Padding bytes are zero, as llama.cpp writes them.
  auto bytes = test::read_bytes(path);
  for (std::uint64_t i = infos_end; i < f.data_offset(); ++i) ASSERT_EQ(bytes[i], 0) << "header padding at " << i;
  for (const auto& t : f.tensors()) {
    std::uint64_t end = f.data_offset() + t.offset + t.n_bytes;
    for (std::uint64_t i = end; i < f.data_offset() + t.offset + test::pad_up(t.n_bytes, align); ++i) {
      ASSERT_EQ(bytes[i], 0) << t.name << " padding at " << i;
    }
  }
}

TEST(GgufWriter, LayoutIsWhatLlamaCppExpects) {
  test::TempDir dir;
  for (std::uint32_t align : {32u, 64u, 256u}) {
    SCOPED_TRACE(align);
    GgufWriter w;
    set_every_type(w);
    if (align != 32) w.set("general.alignment", align);
    auto a = pattern(4 * 3, 1);  // 12 bytes: padding follows
    auto b = pattern(34 * 3, 2);
    w.add_tensor("a", DType::F32, {3}, a);
    w.add_tensor("b", DType::Q8_0, {32, 3}, b);
    w.add_tensor("c", DType::F32, {3}, a);
    auto path = (dir / fmt::format("layout{}.gguf", align)).string();
    w.write(path);
    expect_llama_cpp_layout(path);
    EXPECT_EQ(GgufFile::open(path).alignment(), align);
  }
}

// Copies a file's metadata and tensors, in order, through the writer.
void rewrite(const GgufFile& in, const std::string& out) {
  GgufWriter w;
  w.copy_metadata_from(in);
  for (const auto& t : in.tensors()) w.add_tensor(t.name, t.type, t.ne, t.data);
  w.write(out);
}

TEST(GgufWriter, RewritingLlamaCppFilesIsByteIdentical) {
  AUTARKY_REQUIRE_GOLDEN();
  test::TempDir dir;
  auto models = test::golden_dir() / "models";
  // llama.cpp (gguf-py and ggml's writer) and ik_llama.cpp outputs, of several tensor types.
  for (const char* name : {"stories260K.gguf", "tiny-llama-q4_k_m.gguf", "tiny-llama-bf16.gguf",
                           "tiny-qwen2-q8_0.gguf", "tiny-qwen3-q4_k_m.gguf"}) {
    SCOPED_TRACE(name);
    GgufFile in = GgufFile::open((models / name).string());
    auto out = (dir / name).string();
    rewrite(in, out);
    expect_llama_cpp_layout(out);
    EXPECT_TRUE(test::read_bytes(models / name) == test::read_bytes(out)) << "rewrite differs from the original";
  }
}

TEST(GgufWriter, FailedWriteLeavesNoFile) {
  test::TempDir dir;
  auto path = dir / "out.gguf";
  auto data = pattern(64, 1);
  GgufWriter w;
  w.set("general.architecture", std::string("llama"));
  w.add_tensor("ok", DType::F32, {16}, data);
  w.add_tensor("bad", DType::F32, {16}, [](std::span<std::uint8_t>) { fail("source failed mid-way"); });
  EXPECT_THROW(w.write(path.string()), Error);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "left behind: " << std::filesystem::directory_iterator(dir.path())->path();

  // An existing file at the destination is kept as it was.
  test::write_bytes(path, {1, 2, 3});
  EXPECT_THROW(w.write(path.string()), Error);
  EXPECT_EQ(test::read_bytes(path), (std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(GgufWriter, ProgressReportsEveryTensor) {
  test::TempDir dir;
  auto data = pattern(16, 1);
  GgufWriter w;
  w.add_tensor("x", DType::F32, {4}, data);
  w.add_tensor("y", DType::F32, {4}, data);
  std::vector<std::string> seen;
  w.write((dir / "p.gguf").string(), [&](std::size_t done, std::size_t total, const std::string& name) {
    EXPECT_EQ(total, 2u);
    EXPECT_EQ(done, seen.size() + 1);
    seen.push_back(name);
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"x", "y"}));
}

}  // namespace
}  // namespace autarky
