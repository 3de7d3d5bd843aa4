#pragma once
// A read-only memory map of a whole file. Model weights are used straight from the map
// (zero-copy), so the page cache is the only copy of a model in memory.

#include <cstdint>
#include <span>
#include <string>

namespace autarky {

class MappedFile {
 public:
  // Throws autarky::Error naming the path and the OS error if the file cannot be opened or mapped.
  static MappedFile open(const std::string& path);

  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  ~MappedFile();

  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  // Lets the OS take the whole pages inside `range` (a part of bytes()) out of this process:
  // they stop counting as resident and are read again from the page cache if touched. For
  // tensors whose bytes were copied elsewhere (repacked weights). Errors are ignored: it is a hint.
  void drop_pages(std::span<const std::uint8_t> range) const { drop_pages_of(bytes(), range); }
  // The same for a map known only by its bytes (it may have moved to another MappedFile object
  // since: the mapping itself does not move).
  static void drop_pages_of(std::span<const std::uint8_t> map, std::span<const std::uint8_t> range);
  std::uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void release();
  std::string path_;
  const std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
};

}  // namespace autarky
