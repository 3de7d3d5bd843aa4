#pragma once
// Writes GGUF v3 files the way llama.cpp lays them out: header, metadata, tensor infos, padding
// to the alignment, then each tensor's data padded to the alignment, in the order added.
// Tensor data is produced on demand while writing, so quantizing a large model holds one
// tensor in memory at a time. Output goes through AtomicFileWriter: all or nothing.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "gguf/gguf_value.h"
#include "tensor/dtype.h"

namespace autarky {

class GgufWriter {
 public:
  // Fills `out` (exactly the tensor's byte size) with the tensor's data.
  using DataSource = std::function<void(std::span<std::uint8_t> out)>;
  // Called after each tensor is written, with (index, count), e.g. for a progress bar.
  using Progress = std::function<void(std::size_t done, std::size_t total, const std::string& name)>;

  // Adds or replaces a metadata entry; entries keep the order in which they were first set.
  void set(const std::string& key, GgufValue value);
  void remove(const std::string& key);
  // Copies all metadata of a file (e.g. when quantizing).
  void copy_metadata_from(const GgufFile& file);

  void add_tensor(std::string name, DType type, std::vector<std::int64_t> ne, DataSource source);
  // The bytes must stay valid until write() returns.
  void add_tensor(std::string name, DType type, std::vector<std::int64_t> ne, std::span<const std::uint8_t> bytes);

  void write(const std::string& path, const Progress& progress = {}) const;

  std::size_t tensor_count() const { return tensors_.size(); }

 private:
  struct PendingTensor {
    std::string name;
    DType type;
    std::vector<std::int64_t> ne;
    std::uint64_t n_bytes;
    DataSource source;
  };
  std::uint32_t alignment() const;

  std::vector<GgufKeyValue> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace autarky
