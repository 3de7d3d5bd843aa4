#include "gguf/gguf_writer.h"

#include <algorithm>
#include <cstring>

#include "base/aligned_buffer.h"
#include "base/error.h"
#include "platform/atomic_file.h"

namespace autarky {
namespace {

class Encoder {
 public:
  explicit Encoder(AtomicFileWriter& out) : out_(out) {}

  template <typename T>
  void put(T value) {
    std::uint8_t raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    out_.write(std::span<const std::uint8_t>(raw, sizeof(T)));
  }
  void put_string(const std::string& s) {
    put<std::uint64_t>(s.size());
    out_.write(std::string_view(s));
  }
  void put_value(const GgufValue& v) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) {
            put_string(x);
          } else if constexpr (std::is_same_v<T, GgufArray>) {
            put<std::uint32_t>(static_cast<std::uint32_t>(x.elem_type));
            put<std::uint64_t>(x.items.size());
            for (const auto& item : x.items) {
              AUTARKY_ASSERT(item.type() == x.elem_type, "array of {} holds a {}", gguf_type_name(x.elem_type),
                             gguf_type_name(item.type()));
              put_value(item);
            }
          } else if constexpr (std::is_same_v<T, bool>) {
            put<std::uint8_t>(x ? 1 : 0);
          } else {
            put<T>(x);
          }
        },
        v.v);
  }

 private:
  AtomicFileWriter& out_;
};

std::uint64_t pad_to(std::uint64_t n, std::uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& kv : metadata_) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  metadata_.push_back({key, std::move(value)});
}

void GgufWriter::remove(const std::string& key) {
  std::erase_if(metadata_, [&](const GgufKeyValue& kv) { return kv.key == key; });
}

void GgufWriter::copy_metadata_from(const GgufFile& file) {
  for (const auto& kv : file.metadata()) set(kv.key, kv.value);
}

void GgufWriter::add_tensor(std::string name, DType type, std::vector<std::int64_t> ne, DataSource source) {
  AUTARKY_ASSERT(!ne.empty() && ne.size() <= kGgufMaxDims, "tensor {} has {} dimensions", name, ne.size());
  for (const auto& t : tensors_) AUTARKY_ASSERT(t.name != name, "tensor {} added twice", name);
  std::int64_t n = 1;
  for (auto d : ne) n *= d;
  const DTypeLayout& l = layout(type);
  AUTARKY_ASSERT(ne[0] % l.block_size == 0, "tensor {}: row {} not a multiple of {} block {}", name, ne[0], l.name,
                 l.block_size);
  std::uint64_t bytes = static_cast<std::uint64_t>(n / l.block_size) * l.block_bytes;
  tensors_.push_back({std::move(name), type, std::move(ne), bytes, std::move(source)});
}

void GgufWriter::add_tensor(std::string name, DType type, std::vector<std::int64_t> ne,
                            std::span<const std::uint8_t> bytes) {
  std::string label = name;
  add_tensor(std::move(name), type, std::move(ne), [bytes, label](std::span<std::uint8_t> out) {
    AUTARKY_ASSERT(out.size() == bytes.size(), "tensor {}: {} bytes given, {} expected", label, bytes.size(),
                   out.size());
    std::memcpy(out.data(), bytes.data(), bytes.size());
  });
}

std::uint32_t GgufWriter::alignment() const {
  for (const auto& kv : metadata_) {
    if (kv.key == "general.alignment") {
      const auto* a = std::get_if<std::uint32_t>(&kv.value.v);
      AUTARKY_ASSERT(a && *a != 0 && (*a & (*a - 1)) == 0, "general.alignment must be a u32 power of two");
      return *a;
    }
  }
  return kGgufDefaultAlignment;
}

void GgufWriter::write(const std::string& path, const Progress& progress) const {
  const std::uint32_t align = alignment();
  AtomicFileWriter out(path);
  Encoder enc(out);

  enc.put<std::uint32_t>(kGgufMagic);
  enc.put<std::uint32_t>(3);
  enc.put<std::uint64_t>(tensors_.size());
  enc.put<std::uint64_t>(metadata_.size());
  for (const auto& kv : metadata_) {
    enc.put_string(kv.key);
    enc.put<std::uint32_t>(static_cast<std::uint32_t>(kv.value.type()));
    enc.put_value(kv.value);
  }
  std::uint64_t offset = 0;
  for (const auto& t : tensors_) {
    enc.put_string(t.name);
    enc.put<std::uint32_t>(static_cast<std::uint32_t>(t.ne.size()));
    for (auto d : t.ne) enc.put<std::uint64_t>(static_cast<std::uint64_t>(d));
    enc.put<std::uint32_t>(static_cast<std::uint32_t>(t.type));
    enc.put<std::uint64_t>(offset);
    offset += pad_to(t.n_bytes, align);
  }
  out.write_zeros(pad_to(out.bytes_written(), align) - out.bytes_written());

  AlignedBuffer buffer;
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    const auto& t = tensors_[i];
    if (buffer.size() < t.n_bytes) buffer = AlignedBuffer(t.n_bytes);
    std::span<std::uint8_t> data(buffer.data(), t.n_bytes);
    t.source(data);
    out.write(std::span<const std::uint8_t>(data));
    out.write_zeros(pad_to(t.n_bytes, align) - t.n_bytes);
    if (progress) progress(i + 1, tensors_.size(), t.name);
  }
  out.commit();
}

}  // namespace autarky
