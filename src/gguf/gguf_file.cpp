#include "gguf/gguf_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "base/error.h"

namespace autarky {
namespace {

constexpr int kMaxArrayDepth = 8;  // nested arrays deeper than this are not a model file

// Bounds-checked little-endian reader over the file bytes. Every read names what it was reading
// so that a truncated file says where it ended.
class Cursor {
 public:
  Cursor(std::span<const std::uint8_t> bytes, const std::string& name) : bytes_(bytes), name_(name) {}

  std::uint64_t pos() const { return pos_; }
  std::uint64_t remaining() const { return bytes_.size() - pos_; }

  template <typename T>
  T read(std::string_view what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  std::string read_string(std::string_view what) {
    auto len = read<std::uint64_t>(what);
    if (len > remaining()) {
      fail("{}: {}: string length {} at offset {} exceeds the {} bytes left in the file", name_, what, len,
           pos_ - 8, remaining());
    }
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return s;
  }

  // Rejects a count of items when even the smallest encoding of that many items could not fit
  // in what is left of the file; this is what keeps absurd counts from becoming huge allocations.
  void check_count(std::uint64_t count, std::uint64_t min_item_bytes, std::string_view what) const {
    if (min_item_bytes > 0 && count > remaining() / min_item_bytes) {
      fail("{}: {}: count {} is impossible: {} items need at least {} bytes each but only {} bytes are left",
           name_, what, count, count, min_item_bytes, remaining());
    }
  }

 private:
  void need(std::uint64_t n, std::string_view what) const {
    if (n > remaining()) {
      fail("{}: truncated file: reading {} at offset {} needs {} bytes, only {} left", name_, what, pos_, n,
           remaining());
    }
  }

  std::span<const std::uint8_t> bytes_;
  const std::string& name_;
  std::uint64_t pos_ = 0;
};

std::uint64_t min_encoded_size(GgufType t) {
  switch (t) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
    case GgufType::UINT16: case GgufType::INT16: return 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
    case GgufType::STRING: return 8;       // length prefix
    case GgufType::ARRAY: return 4 + 8;    // element type + count
  }
  return 1;
}

GgufType read_type(Cursor& c, std::string_view what, const std::string& name) {
  auto raw = c.read<std::uint32_t>(what);
  if (raw >= kGgufTypeCount) fail("{}: {}: unknown value type {}", name, what, raw);
  return static_cast<GgufType>(raw);
}

GgufValue read_value(Cursor& c, GgufType type, const std::string& what, const std::string& name, int depth) {
  switch (type) {
    case GgufType::UINT8: return c.read<std::uint8_t>(what);
    case GgufType::INT8: return c.read<std::int8_t>(what);
    case GgufType::UINT16: return c.read<std::uint16_t>(what);
    case GgufType::INT16: return c.read<std::int16_t>(what);
    case GgufType::UINT32: return c.read<std::uint32_t>(what);
    case GgufType::INT32: return c.read<std::int32_t>(what);
    case GgufType::FLOAT32: return c.read<float>(what);
    case GgufType::BOOL: return c.read<std::uint8_t>(what) != 0;
    case GgufType::STRING: return c.read_string(what);
    case GgufType::UINT64: return c.read<std::uint64_t>(what);
    case GgufType::INT64: return c.read<std::int64_t>(what);
    case GgufType::FLOAT64: return c.read<double>(what);
    case GgufType::ARRAY: {
      if (depth >= kMaxArrayDepth) fail("{}: {}: arrays nested deeper than {}", name, what, kMaxArrayDepth);
      GgufArray arr;
      arr.elem_type = read_type(c, what + " (array element type)", name);
      auto count = c.read<std::uint64_t>(what + " (array length)");
      c.check_count(count, min_encoded_size(arr.elem_type), what + " (array length)");
      arr.items.reserve(count);
      for (std::uint64_t i = 0; i < count; ++i) {
        arr.items.push_back(read_value(c, arr.elem_type, what, name, depth + 1));
      }
      return arr;
    }
  }
  fail("{}: {}: unknown value type {}", name, what, static_cast<std::uint32_t>(type));
}

bool is_power_of_two(std::uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

}  // namespace

std::string GgufTensorInfo::shape_string() const {
  return fmt::format("[{}]", fmt::join(ne, ", "));
}

GgufFile GgufFile::open(const std::string& path) {
  GgufFile f;
  f.name_ = path;
  f.mapped_ = MappedFile::open(path);
  f.parse_bytes(f.mapped_.bytes());
  return f;
}

GgufFile GgufFile::parse(std::span<const std::uint8_t> bytes, const std::string& name) {
  GgufFile f;
  f.name_ = name;
  f.parse_bytes(bytes);
  return f;
}

void GgufFile::parse_bytes(std::span<const std::uint8_t> bytes) {
  const std::string& name = name_;
  file_size_ = bytes.size();
  Cursor c(bytes, name);

  auto magic = c.read<std::uint32_t>("magic");
  if (magic != kGgufMagic) {
    fail("{}: not a GGUF file: magic is 0x{:08x}, expected 0x{:08x} (\"GGUF\")", name, magic, kGgufMagic);
  }
  version_ = c.read<std::uint32_t>("version");
  if (version_ != 2 && version_ != 3) {
    // A byte-swapped small number means a big-endian file, which ggml writes for s390x.
    bool big_endian = version_ > 0xffff && __builtin_bswap32(version_) <= 3;
    fail("{}: unsupported GGUF version {} (supported: 2, 3){}", name, version_,
         big_endian ? "; this looks like a big-endian GGUF file" : "");
  }

  auto n_tensors = c.read<std::uint64_t>("tensor count");
  auto n_kv = c.read<std::uint64_t>("metadata count");
  c.check_count(n_kv, 8 + 4 + 1, "metadata count");
  c.check_count(n_tensors, 8 + 4 + 4 + 8, "tensor count");

  metadata_.reserve(n_kv);
  for (std::uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.read_string(fmt::format("key of metadata entry {}", i));
    if (key.empty()) fail("{}: metadata entry {} has an empty key", name, i);
    std::string what = fmt::format("metadata '{}'", key);
    GgufType type = read_type(c, what + " (type)", name);
    GgufValue value = read_value(c, type, what, name, 0);
    if (!key_index_.emplace(key, metadata_.size()).second) fail("{}: duplicate metadata key '{}'", name, key);
    metadata_.push_back({std::move(key), std::move(value)});
  }

  if (const GgufValue* a = find("general.alignment")) {
    if (a->type() != GgufType::UINT32) {
      fail("{}: general.alignment must be u32, found {}", name, gguf_type_name(a->type()));
    }
    auto value = std::get<std::uint32_t>(a->v);
    if (!is_power_of_two(value)) fail("{}: general.alignment {} is not a power of two", name, value);
    alignment_ = value;
  }

  tensors_.reserve(n_tensors);
  for (std::uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = c.read_string(fmt::format("name of tensor {}", i));
    if (t.name.empty()) fail("{}: tensor {} has an empty name", name, i);
    auto n_dims = c.read<std::uint32_t>(fmt::format("tensor {} dimension count", t.name));
    if (n_dims > kGgufMaxDims) {
      fail("{}: tensor {}: {} dimensions, at most {} are supported", name, t.name, n_dims, kGgufMaxDims);
    }
    std::uint64_t n_elements = 1;
    for (std::uint32_t d = 0; d < n_dims; ++d) {
      auto dim = c.read<std::uint64_t>(fmt::format("tensor {} dimension {}", t.name, d));
      // Zero-sized dimensions are rejected too: no model tensor is empty, and n_rows() divides by ne[0].
      if (dim == 0 || dim > static_cast<std::uint64_t>(INT64_MAX)) {
        fail("{}: tensor {}: dimension {} is {}", name, t.name, d, dim);
      }
      if (__builtin_mul_overflow(n_elements, dim, &n_elements) || n_elements > static_cast<std::uint64_t>(INT64_MAX)) {
        fail("{}: tensor {}: element count overflows (dimension {} = {})", name, t.name, d, dim);
      }
      t.ne.push_back(static_cast<std::int64_t>(dim));
    }
    auto raw_type = c.read<std::uint32_t>(fmt::format("tensor {} type", t.name));
    const DTypeLayout* l = find_layout(raw_type);
    if (!l) fail("{}: tensor {}: unknown tensor type {}", name, t.name, raw_type);
    t.type = l->type;
    t.offset = c.read<std::uint64_t>(fmt::format("tensor {} offset", t.name));
    t.n_elements = n_elements;
    if (t.dim(0) % l->block_size != 0) {
      fail("{}: tensor {}: row length {} is not a multiple of the {} block size {}", name, t.name, t.dim(0), l->name,
           l->block_size);
    }
    if (__builtin_mul_overflow(n_elements / l->block_size, l->block_bytes, &t.n_bytes)) {
      fail("{}: tensor {}: byte size overflows ({} elements of {})", name, t.name, n_elements, l->name);
    }
    if (t.offset % alignment_ != 0) {
      fail("{}: tensor {}: offset {} is not a multiple of the alignment {}", name, t.name, t.offset, alignment_);
    }
    if (!tensor_index_.emplace(t.name, tensors_.size()).second) fail("{}: duplicate tensor name '{}'", name, t.name);
    tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment after the tensor infos.
  std::uint64_t infos_end = c.pos();
  data_offset_ = (infos_end + alignment_ - 1) / alignment_ * alignment_;
  std::uint64_t data_size = data_offset_ <= file_size_ ? file_size_ - data_offset_ : 0;
  if (data_offset_ > file_size_ && !tensors_.empty()) {
    fail("{}: truncated file: data section should start at offset {} but the file has {} bytes", name, data_offset_,
         file_size_);
  }

  for (auto& t : tensors_) {
    if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
      fail("{}: tensor {}: offset {} + {} bytes is past the end of the data section ({} bytes; file size {})", name,
           t.name, t.offset, t.n_bytes, data_size, file_size_);
    }
    t.data = bytes.subspan(data_offset_ + t.offset, t.n_bytes);
  }

  std::vector<const GgufTensorInfo*> by_offset;
  for (const auto& t : tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const auto* prev = by_offset[i - 1];
    const auto* cur = by_offset[i];
    if (prev->offset + prev->n_bytes > cur->offset && prev->n_bytes > 0 && cur->n_bytes > 0) {
      fail("{}: tensors {} (offset {}, {} bytes) and {} (offset {}) overlap", name, prev->name, prev->offset,
           prev->n_bytes, cur->name, cur->offset);
    }
  }
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].value;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensorInfo& GgufFile::tensor(std::string_view name) const {
  const GgufTensorInfo* t = find_tensor(name);
  if (!t) fail("{}: tensor {} is missing", name_, name);
  return *t;
}

namespace {

[[noreturn]] void wrong_type(const std::string& file, std::string_view key, std::string_view wanted, const GgufValue& v) {
  fail("{}: metadata '{}' should be {}, found {} {}", file, key, wanted, gguf_type_name(v.type()), v.to_display());
}

}  // namespace

std::string GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) fail("{}: metadata '{}' is missing", name_, key);
  if (!v->as_string()) wrong_type(name_, key, "a string", *v);
  return *v->as_string();
}

std::int64_t GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) fail("{}: metadata '{}' is missing", name_, key);
  auto i = v->as_int();
  if (!i) wrong_type(name_, key, "an integer", *v);
  return *i;
}

double GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) fail("{}: metadata '{}' is missing", name_, key);
  auto d = v->as_double();
  if (!d) wrong_type(name_, key, "a number", *v);
  return *d;
}

bool GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) fail("{}: metadata '{}' is missing", name_, key);
  if (v->type() != GgufType::BOOL) wrong_type(name_, key, "a bool", *v);
  return std::get<bool>(v->v);
}

std::string GgufFile::get_string_or(std::string_view key, std::string fallback) const {
  return find(key) ? get_string(key) : fallback;
}
std::int64_t GgufFile::get_int_or(std::string_view key, std::int64_t fallback) const {
  return find(key) ? get_int(key) : fallback;
}
double GgufFile::get_float_or(std::string_view key, double fallback) const {
  return find(key) ? get_float(key) : fallback;
}
bool GgufFile::get_bool_or(std::string_view key, bool fallback) const {
  return find(key) ? get_bool(key) : fallback;
}

namespace {

const GgufArray& require_array(const GgufFile& f, std::string_view key) {
  const GgufValue* v = f.find(key);
  if (!v) fail("{}: metadata '{}' is missing", f.path(), key);
  if (!v->as_array()) wrong_type(f.path(), key, "an array", *v);
  return *v->as_array();
}

}  // namespace

std::vector<std::string> GgufFile::get_string_array(std::string_view key) const {
  const GgufArray& a = require_array(*this, key);
  if (a.elem_type != GgufType::STRING) fail("{}: metadata '{}' should be an array of strings, found array of {}", name_, key, gguf_type_name(a.elem_type));
  std::vector<std::string> out;
  out.reserve(a.items.size());
  for (const auto& item : a.items) out.push_back(*item.as_string());
  return out;
}

std::vector<double> GgufFile::get_float_array(std::string_view key) const {
  const GgufArray& a = require_array(*this, key);
  std::vector<double> out;
  out.reserve(a.items.size());
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    auto d = a.items[i].as_double();
    if (!d) fail("{}: metadata '{}'[{}] should be a number, found {}", name_, key, i, gguf_type_name(a.items[i].type()));
    out.push_back(*d);
  }
  return out;
}

std::vector<std::int64_t> GgufFile::get_int_array(std::string_view key) const {
  const GgufArray& a = require_array(*this, key);
  std::vector<std::int64_t> out;
  out.reserve(a.items.size());
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    auto v = a.items[i].as_int();
    if (!v) fail("{}: metadata '{}'[{}] should be an integer, found {}", name_, key, i, gguf_type_name(a.items[i].type()));
    out.push_back(*v);
  }
  return out;
}

}  // namespace autarky
