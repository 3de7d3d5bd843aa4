#include "platform/anonymous_memory.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "base/error.h"

namespace autarky {

namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
}

AnonymousMemory AnonymousMemory::allocate(std::size_t bytes) {
  AnonymousMemory m;
  if (bytes == 0) return m;
  // Over-allocate by one huge page so the data can start on a huge-page boundary.
  const std::size_t map_bytes = bytes + kHugePage;
  void* p = ::mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fail("cannot allocate {} bytes of memory: {}", bytes, std::strerror(errno));
  m.map_ = static_cast<std::uint8_t*>(p);
  m.map_bytes_ = map_bytes;
  const auto aligned = (reinterpret_cast<std::uintptr_t>(p) + kHugePage - 1) / kHugePage * kHugePage;
  m.data_ = reinterpret_cast<std::uint8_t*>(aligned);
  m.size_ = bytes;
#if defined(MADV_HUGEPAGE)
  ::madvise(m.data_, bytes, MADV_HUGEPAGE);  // a hint: errors are harmless
#endif
  return m;
}

AnonymousMemory::AnonymousMemory(AnonymousMemory&& o) noexcept
    : map_(std::exchange(o.map_, nullptr)),
      map_bytes_(std::exchange(o.map_bytes_, 0)),
      data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)) {}

AnonymousMemory& AnonymousMemory::operator=(AnonymousMemory&& o) noexcept {
  if (this != &o) {
    release();
    map_ = std::exchange(o.map_, nullptr);
    map_bytes_ = std::exchange(o.map_bytes_, 0);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

AnonymousMemory::~AnonymousMemory() { release(); }

void AnonymousMemory::release() {
  if (map_ != nullptr) ::munmap(map_, map_bytes_);
  map_ = data_ = nullptr;
  map_bytes_ = size_ = 0;
}

}  // namespace autarky
