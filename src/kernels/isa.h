#pragma once
// Instruction-set levels that kernels are written for. The best level this CPU supports is
// used unless the environment variable AUTARKY_ISA caps it (ref, portable, avx2, avx512, amx) --
// for comparisons in benchmarks and for reproducing a user's machine.

#include <string_view>
#include <vector>

namespace autarky {

enum class Isa {
  kRef,       // scalar reference: dequantize a row, float dot product (src/kernels/ref)
  kPortable,  // plain C++ with GCC vector extensions: any CPU, incl. AArch64 (src/kernels/portable)
  kAvx2,      // x86-64 AVX2 + FMA + F16C (src/kernels/x86_avx2)
  kAvx512,    // x86-64 AVX-512 F/BW/VL/VNNI (src/kernels/x86_avx512); BF16 kernels also need avx512_bf16
  kAmx,       // kAvx512 plus AMX int8 tile multiplies, for prefill (src/kernels/x86_amx)
};

std::string_view isa_name(Isa isa);

// The levels this CPU (and OS) can run, lowest first; always starts with kRef, kPortable.
std::vector<Isa> supported_isas();

// The level kernels are chosen for: the highest supported one, capped by AUTARKY_ISA if set.
// An unknown AUTARKY_ISA value is an Error naming it.
Isa default_isa();

}  // namespace autarky
