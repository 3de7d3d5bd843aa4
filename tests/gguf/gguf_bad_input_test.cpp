// GgufFile::parse on hostile input: each corruption of an otherwise valid file must end in an
// autarky::Error whose message names the field or tensor and the offending value -- never a
// crash, a hang or a huge allocation.

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "base/error.h"
#include "gguf/gguf_bytes.h"
#include "gguf/gguf_file.h"
#include "test_support.h"

namespace autarky {
namespace {

using test::build_gguf;
using test::ByteWriter;
using test::FileSpec;
using test::f32_tensor;

// A small but complete model-like file: a few kinds of metadata and three tensors.
FileSpec valid_spec() {
  FileSpec s;
  s.kvs.push_back(test::kv_str("general.architecture", "llama"));
  s.kvs.push_back(test::kv_u32("llama.block_count", 1));
  ByteWriter tokens;
  tokens.u32(test::kStr).u64(3).str("<unk>").str("<s>").str("</s>");
  s.kvs.push_back(test::kv("tokenizer.ggml.tokens", test::kArr, tokens));
  s.tensors.push_back(f32_tensor("token_embd.weight", {8, 3}));
  s.tensors.push_back(f32_tensor("output_norm.weight", {8}));
  s.tensors.push_back(f32_tensor("output.weight", {8, 3}));
  return s;
}

GgufFile parse(const std::vector<std::uint8_t>& bytes) { return GgufFile::parse(bytes, "test.gguf"); }

// Parsing must throw an Error whose message contains every one of `needles`.
void expect_error(const std::vector<std::uint8_t>& bytes, std::initializer_list<std::string> needles) {
  try {
    parse(bytes);
    ADD_FAILURE() << "parse succeeded, expected an error mentioning " << *needles.begin();
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("test.gguf"), std::string::npos) << msg;
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "missing '" << n << "' in: " << msg;
  }
}

TEST(GgufBadInput, ValidSpecParses) {
  auto bytes = build_gguf(valid_spec());
  GgufFile f = parse(bytes);
  EXPECT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens").size(), 3u);
}

// Every prefix that cuts into the header, the infos or some tensor's data must be rejected.
// Prefixes that only drop the padding after the last tensor leave a usable file.
TEST(GgufBadInput, EveryTruncationThrows) {
  auto bytes = build_gguf(valid_spec());
  GgufFile whole = parse(bytes);
  std::uint64_t needed = 0;
  for (const auto& t : whole.tensors()) needed = std::max(needed, whole.data_offset() + t.offset + t.n_bytes);
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
    if (len < needed) {
      EXPECT_THROW(parse(cut), Error) << "prefix of " << len << " bytes";
    } else {
      EXPECT_NO_THROW(parse(cut)) << "prefix of " << len << " bytes";
    }
  }
}

TEST(GgufBadInput, TruncatedBundledModelThrowsAtManyOffsets) {
  auto bytes = test::read_bytes(test::bundled_model());
  GgufFile whole = parse(bytes);
  // Dense over the header and infos (where the parser's work is), sparse over the data.
  std::vector<std::size_t> lengths;
  for (std::size_t len = 0; len < whole.data_offset(); len += (len < 1024 ? 1 : 37)) lengths.push_back(len);
  for (std::size_t len = whole.data_offset(); len < bytes.size() - 32; len += 4099) lengths.push_back(len);
  for (std::size_t len : lengths) {
    std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
    EXPECT_THROW(parse(cut), Error) << "prefix of " << len << " bytes";
  }
}

TEST(GgufBadInput, TruncationMessageSaysWhere) {
  auto bytes = build_gguf(valid_spec());
  bytes.resize(12);  // inside the tensor count
  expect_error(bytes, {"truncated", "tensor count", "offset 8"});
}

TEST(GgufBadInput, BadMagic) {
  FileSpec s = valid_spec();
  s.magic = 0x46554746;
  expect_error(build_gguf(s), {"magic", "0x46554746"});
}

TEST(GgufBadInput, BadVersion) {
  for (std::uint32_t v : {0u, 1u, 4u, 0x03000000u}) {
    FileSpec s = valid_spec();
    s.version = v;
    expect_error(build_gguf(s), {"version", std::to_string(v)});
  }
}

TEST(GgufBadInput, AbsurdMetadataCount) {
  FileSpec s = valid_spec();
  s.n_kv = 1ull << 60;
  expect_error(build_gguf(s), {"metadata count", std::to_string(1ull << 60)});
}

TEST(GgufBadInput, AbsurdTensorCount) {
  FileSpec s = valid_spec();
  s.n_tensors = ~0ull;
  expect_error(build_gguf(s), {"tensor count", std::to_string(~0ull)});
}

TEST(GgufBadInput, MoreTensorsDeclaredThanPresent) {
  FileSpec s = valid_spec();
  s.n_tensors = 4;
  EXPECT_THROW(parse(build_gguf(s)), Error);
}

TEST(GgufBadInput, AbsurdKeyLength) {
  FileSpec s = valid_spec();
  ByteWriter w;
  w.u64(1ull << 62);
  s.kvs.insert(s.kvs.begin(), w.bytes);
  expect_error(build_gguf(s), {"key of metadata entry 0", "string length", std::to_string(1ull << 62)});
}

TEST(GgufBadInput, AbsurdStringValueLength) {
  FileSpec s = valid_spec();
  ByteWriter p;
  p.u64(0xffffffffffffull).str("rest");
  s.kvs.push_back(test::kv("general.name", test::kStr, p));
  expect_error(build_gguf(s), {"general.name", "string length", std::to_string(0xffffffffffffull)});
}

TEST(GgufBadInput, AbsurdArrayLength) {
  for (std::uint32_t elem : {test::kU8, test::kStr, test::kArr}) {
    FileSpec s = valid_spec();
    ByteWriter p;
    p.u32(elem).u64(1ull << 40);
    s.kvs.push_back(test::kv("tokenizer.ggml.scores", test::kArr, p));
    expect_error(build_gguf(s), {"tokenizer.ggml.scores", "array length", std::to_string(1ull << 40)});
  }
}

TEST(GgufBadInput, ArraysNestedTooDeep) {
  FileSpec s = valid_spec();
  ByteWriter p;
  for (int depth = 0; depth < 100; ++depth) p.u32(test::kArr).u64(1);
  p.u32(test::kU8).u64(0);
  s.kvs.push_back(test::kv("deep", test::kArr, p));
  expect_error(build_gguf(s), {"'deep'", "nested"});
}

TEST(GgufBadInput, UnknownValueType) {
  FileSpec s = valid_spec();
  s.kvs.push_back(test::kv_scalar<std::uint32_t>("odd", 13, 0));
  expect_error(build_gguf(s), {"'odd'", "unknown value type 13"});
}

TEST(GgufBadInput, UnknownArrayElementType) {
  FileSpec s = valid_spec();
  ByteWriter p;
  p.u32(99).u64(1).u32(0);
  s.kvs.push_back(test::kv("odd.array", test::kArr, p));
  expect_error(build_gguf(s), {"odd.array", "unknown value type 99"});
}

TEST(GgufBadInput, EmptyKey) {
  FileSpec s = valid_spec();
  s.kvs.push_back(test::kv_u32("", 1));
  expect_error(build_gguf(s), {"empty key"});
}

TEST(GgufBadInput, UnknownTensorType) {
  for (std::uint32_t type : {4u, 5u, 31u, 1000u}) {  // 4, 5: Q4_2/Q4_3, removed from ggml long ago
    FileSpec s = valid_spec();
    s.tensors[1].type = type;
    expect_error(build_gguf(s), {"output_norm.weight", "unknown tensor type " + std::to_string(type)});
  }
}

TEST(GgufBadInput, TooManyDimensions) {
  FileSpec s = valid_spec();
  s.tensors[0] = f32_tensor("token_embd.weight", {2, 2, 2, 2, 2});
  expect_error(build_gguf(s), {"token_embd.weight", "5 dimensions"});
}

TEST(GgufBadInput, DimensionProductOverflows) {
  FileSpec s = valid_spec();
  s.tensors[2].ne = {1ull << 32, 1ull << 32};
  expect_error(build_gguf(s), {"output.weight", "overflow", std::to_string(1ull << 32)});
  // The element count fits in int64 but its F32 byte size does not.
  s.tensors[2].ne = {1ull << 31, 1ull << 31};
  expect_error(build_gguf(s), {"output.weight", "overflow"});
}

TEST(GgufBadInput, NegativeOrZeroDimension) {
  FileSpec s = valid_spec();
  s.tensors[2].ne = {~0ull, 3};
  expect_error(build_gguf(s), {"output.weight", "dimension 0"});
  s.tensors[2].ne = {8, 0};
  expect_error(build_gguf(s), {"output.weight", "dimension 1 is 0"});
}

TEST(GgufBadInput, OffsetPastEndOfFile) {
  FileSpec s = valid_spec();
  s.tensors[2].offset = 1ull << 40;
  expect_error(build_gguf(s), {"output.weight", "offset " + std::to_string(1ull << 40), "past the end"});
}

TEST(GgufBadInput, SizePastEndOfFile) {
  FileSpec s = valid_spec();
  s.data_size_delta = -50;  // the last tensor's 96 bytes no longer fit
  expect_error(build_gguf(s), {"output.weight", "96 bytes", "past the end"});
}

TEST(GgufBadInput, OverlappingTensors) {
  FileSpec s = valid_spec();
  s.tensors[2].offset = 0;  // same place as token_embd.weight
  expect_error(build_gguf(s), {"overlap", "token_embd.weight", "output.weight"});
  s.tensors[2].offset = 96;  // where output_norm.weight lives
  s.data_size_delta = 96;     // room for it, so that only the overlap is wrong
  expect_error(build_gguf(s), {"overlap", "output_norm.weight", "output.weight"});
}

TEST(GgufBadInput, MisalignedOffset) {
  FileSpec s = valid_spec();
  s.tensors[2].offset = 132;
  expect_error(build_gguf(s), {"output.weight", "offset 132", "alignment 32"});
}

TEST(GgufBadInput, AlignmentNotPowerOfTwo) {
  for (std::uint32_t a : {0u, 3u, 48u}) {
    FileSpec s = valid_spec();
    s.kvs.push_back(test::kv_u32("general.alignment", a));
    expect_error(build_gguf(s), {"general.alignment", std::to_string(a)});
  }
}

TEST(GgufBadInput, AlignmentOfWrongType) {
  FileSpec s = valid_spec();
  s.kvs.push_back(test::kv_scalar<std::uint64_t>("general.alignment", test::kU64, 32));
  expect_error(build_gguf(s), {"general.alignment", "u32", "u64"});
  s.kvs.back() = test::kv_str("general.alignment", "32");
  expect_error(build_gguf(s), {"general.alignment", "str"});
}

TEST(GgufBadInput, DuplicateKey) {
  FileSpec s = valid_spec();
  s.kvs.push_back(test::kv_u32("llama.block_count", 2));
  expect_error(build_gguf(s), {"duplicate", "llama.block_count"});
}

TEST(GgufBadInput, DuplicateTensorName) {
  FileSpec s = valid_spec();
  s.tensors[2].name = "token_embd.weight";
  expect_error(build_gguf(s), {"duplicate", "token_embd.weight"});
}

TEST(GgufBadInput, EmptyTensorName) {
  FileSpec s = valid_spec();
  s.tensors[1].name = "";
  expect_error(build_gguf(s), {"tensor 1", "empty name"});
}

TEST(GgufBadInput, RowNotMultipleOfBlockSize) {
  FileSpec s = valid_spec();
  s.tensors[2].type = 2;  // Q4_0: blocks of 32
  s.tensors[2].ne = {33, 3};
  expect_error(build_gguf(s), {"output.weight", "row length 33", "Q4_0", "32"});
}

TEST(GgufBadInput, DataSectionStartsPastEnd) {
  FileSpec s = valid_spec();
  auto bytes = build_gguf(s);
  GgufFile f = parse(bytes);
  bytes.resize(f.data_offset() - 1);
  expect_error(bytes, {"truncated"});
}

}  // namespace
}  // namespace autarky
