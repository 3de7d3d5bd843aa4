#include "kernels/scratch.h"

#include <cstdlib>
#include <memory>

namespace autarky::kernels {

namespace {
struct FreeDeleter {
  void operator()(std::uint8_t* p) const { std::free(p); }
};

struct Slot {
  std::unique_ptr<std::uint8_t, FreeDeleter> data;
  std::size_t capacity = 0;
};
}  // namespace

std::uint8_t* thread_scratch(ScratchSlot slot, std::size_t bytes) {
  thread_local Slot slots[static_cast<int>(ScratchSlot::kCount)];
  Slot& s = slots[static_cast<int>(slot)];
  if (bytes > s.capacity) {
    const std::size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (p == nullptr) throw std::bad_alloc();
    s.data.reset(static_cast<std::uint8_t*>(p));
    s.capacity = rounded;
  }
  return s.data.get();
}

}  // namespace autarky::kernels
