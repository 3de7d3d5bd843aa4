#pragma once
// A GGUF model file (versions 2 and 3), memory-mapped. Parsing validates everything a later
// reader could trip over -- counts, string lengths, tensor shapes, offsets, alignment, overlaps --
// so code holding a GgufFile may use tensor data spans without further checks.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_value.h"
#include "platform/mapped_file.h"
#include "tensor/dtype.h"

namespace autarky {

constexpr std::uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
constexpr std::uint32_t kGgufDefaultAlignment = 32;
constexpr int kGgufMaxDims = 4;

struct GgufTensorInfo {
  std::string name;
  DType type = DType::F32;
  std::vector<std::int64_t> ne;  // dimensions, ne[0] fastest-varying (a row)
  std::uint64_t offset = 0;      // from the start of the data section
  std::uint64_t n_elements = 0;
  std::uint64_t n_bytes = 0;
  std::span<const std::uint8_t> data;  // points into the mapped file

  std::int64_t dim(int i) const { return i < static_cast<int>(ne.size()) ? ne[i] : 1; }
  std::int64_t n_rows() const { return ne.empty() ? 1 : static_cast<std::int64_t>(n_elements) / ne[0]; }
  std::string shape_string() const;  // "[256, 512]"
};

struct GgufKeyValue {
  std::string key;
  GgufValue value;
};

class GgufFile {
 public:
  // Maps and validates the file; throws autarky::Error naming the file and what is wrong.
  static GgufFile open(const std::string& path);
  // Parses bytes held elsewhere (tests, fuzzing). `name` is used in error messages. The bytes
  // must outlive the returned object.
  static GgufFile parse(std::span<const std::uint8_t> bytes, const std::string& name);

  GgufFile(GgufFile&&) = default;
  GgufFile& operator=(GgufFile&&) = default;

  const std::string& path() const { return name_; }
  std::uint32_t version() const { return version_; }
  std::uint32_t alignment() const { return alignment_; }
  std::uint64_t data_offset() const { return data_offset_; }
  std::uint64_t file_size() const { return file_size_; }

  // Takes the pages of `range` (bytes of this file) out of the process when the file is mapped
  // (MappedFile::drop_pages); does nothing for bytes held elsewhere.
  void drop_pages(std::span<const std::uint8_t> range) const { mapped_.drop_pages(range); }
  // The mapped bytes (empty when parsed from bytes held elsewhere), for MappedFile::drop_pages_of.
  std::span<const std::uint8_t> mapped_bytes() const { return mapped_.bytes(); }

  const std::vector<GgufKeyValue>& metadata() const { return metadata_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  const GgufValue* find(std::string_view key) const;
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  const GgufTensorInfo& tensor(std::string_view name) const;  // throws if missing

  // Typed lookups that throw an Error naming the key when it is missing or of the wrong type.
  std::string get_string(std::string_view key) const;
  std::int64_t get_int(std::string_view key) const;
  double get_float(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  // Same with a fallback when the key is absent (a present key of the wrong type still throws).
  std::string get_string_or(std::string_view key, std::string fallback) const;
  std::int64_t get_int_or(std::string_view key, std::int64_t fallback) const;
  double get_float_or(std::string_view key, double fallback) const;
  bool get_bool_or(std::string_view key, bool fallback) const;
  std::vector<std::string> get_string_array(std::string_view key) const;
  std::vector<double> get_float_array(std::string_view key) const;
  std::vector<std::int64_t> get_int_array(std::string_view key) const;

 private:
  GgufFile() = default;
  void parse_bytes(std::span<const std::uint8_t> bytes);

  std::string name_;
  MappedFile mapped_;  // empty when parsed from caller-owned bytes
  std::uint32_t version_ = 0;
  std::uint32_t alignment_ = kGgufDefaultAlignment;
  std::uint64_t data_offset_ = 0;
  std::uint64_t file_size_ = 0;
  std::vector<GgufKeyValue> metadata_;
  std::map<std::string, std::size_t, std::less<>> key_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> tensor_index_;
};

}  // namespace autarky
