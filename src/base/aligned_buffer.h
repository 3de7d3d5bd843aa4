#pragma once
// An owned, aligned, uninitialised byte buffer for tensors and scratch space. Copying is deleted
// on purpose: duplicating a weight-sized buffer must be a visible decision (copy_from), not an
// accident of passing by value.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>

namespace autarky {

class AlignedBuffer {
 public:
  static constexpr std::size_t kAlignment = 64;  // one cache line, enough for AVX-512 loads

  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t bytes)
      : data_(bytes ? static_cast<std::uint8_t*>(::operator new[](bytes, std::align_val_t{kAlignment}))
                    : nullptr),
        size_(bytes) {}
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr, o.size_ = 0; }
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = o.data_, size_ = o.size_;
      o.data_ = nullptr, o.size_ = 0;
    }
    return *this;
  }
  ~AlignedBuffer() { release(); }

  void copy_from(std::span<const std::uint8_t> src) {
    *this = AlignedBuffer(src.size());
    if (!src.empty()) std::memcpy(data_, src.data(), src.size());
  }

  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::span<std::uint8_t> bytes() { return {data_, size_}; }
  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  template <typename T>
  std::span<T> as() { return {reinterpret_cast<T*>(data_), size_ / sizeof(T)}; }
  template <typename T>
  std::span<const T> as() const { return {reinterpret_cast<const T*>(data_), size_ / sizeof(T)}; }

 private:
  void release() {
    if (data_) ::operator delete[](data_, std::align_val_t{kAlignment});
    data_ = nullptr;
    size_ = 0;
  }
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace autarky
