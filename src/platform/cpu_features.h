#pragma once
// What the CPU we run on can execute, detected once at start-up. Kernels are compiled for
// several instruction sets (src/kernels/x86_*); this decides which of them may run.

#include <string>

namespace autarky {

struct CpuFeatures {
  // x86-64
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool avx_vnni = false;
  bool amx_int8 = false;
  bool amx_bf16 = false;
  // AArch64
  bool neon = false;
  bool arm_dotprod = false;

  // "avx2 fma f16c avx512f ..." for logs and benchmark output.
  std::string describe() const;
};

// Features of this CPU that the operating system also enables (AVX/AVX-512 register state saved
// on context switches), detected on first use.
const CpuFeatures& cpu_features();

}  // namespace autarky
