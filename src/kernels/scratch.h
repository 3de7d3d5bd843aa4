#pragma once
// Per-thread scratch memory for kernels: a few numbered slots, each grown on demand and kept for
// the life of the thread, so decode steps do not allocate.
//
// Defined in a baseline-compiled file on purpose: kernels in the per-ISA folders must not
// instantiate std::vector & co. themselves (their inline copies would be compiled with AVX-512
// flags and the linker could pick them for code that runs on any CPU; see kernel_sets.h).

#include <cstddef>
#include <cstdint>

namespace autarky::kernels {

enum class ScratchSlot : int { kPanel = 0, kActivationInfo = 1, kRowBuffer = 2, kAttention = 3, kCount = 4 };

// At least `bytes` bytes, 64-byte aligned, owned by the calling thread. Contents are unspecified;
// the pointer stays valid until the next call with the same slot on this thread.
std::uint8_t* thread_scratch(ScratchSlot slot, std::size_t bytes);

}  // namespace autarky::kernels
