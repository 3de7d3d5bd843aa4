#pragma once
// A large private anonymous mapping for data the process builds itself (weights repacked at
// load), asked for in 2 MiB huge pages: a gigabyte of 4 KiB pages costs ~250k page faults to
// fill and as many TLB entries to stream, which showed as most of a model's load time.

#include <cstddef>
#include <cstdint>

namespace autarky {

class AnonymousMemory {
 public:
  // Throws autarky::Error naming the size if the mapping fails. Zero bytes: an empty object.
  static AnonymousMemory allocate(std::size_t bytes);

  AnonymousMemory() = default;
  AnonymousMemory(const AnonymousMemory&) = delete;
  AnonymousMemory& operator=(const AnonymousMemory&) = delete;
  AnonymousMemory(AnonymousMemory&& o) noexcept;
  AnonymousMemory& operator=(AnonymousMemory&& o) noexcept;
  ~AnonymousMemory();

  std::uint8_t* data() const { return data_; }  // 2 MiB-aligned
  std::size_t size() const { return size_; }

 private:
  void release();
  std::uint8_t* map_ = nullptr;  // what mmap returned (data_ rounded down)
  std::size_t map_bytes_ = 0;
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace autarky
