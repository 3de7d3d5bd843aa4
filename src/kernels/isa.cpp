#include "kernels/isa.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "base/error.h"
#include "platform/cpu_features.h"

namespace autarky {

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kRef: return "ref";
    case Isa::kPortable: return "portable";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kAmx: return "amx";
  }
  return "?";
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas{Isa::kRef, Isa::kPortable};
#if defined(AUTARKY_X86_KERNELS)
  const CpuFeatures& f = cpu_features();
  if (f.avx2 && f.fma && f.f16c) isas.push_back(Isa::kAvx2);
  if (f.avx2 && f.fma && f.f16c && f.avx512f && f.avx512bw && f.avx512vl && f.avx512_vnni) {
    isas.push_back(Isa::kAvx512);
    if (f.amx_int8) isas.push_back(Isa::kAmx);
  }
#endif
  return isas;
}

namespace {
Isa detect_default_isa() {
  const std::vector<Isa> isas = supported_isas();
  Isa best = isas.back();
  const char* cap = std::getenv("AUTARKY_ISA");
  if (cap == nullptr || *cap == '\0') return best;
  for (Isa isa : {Isa::kRef, Isa::kPortable, Isa::kAvx2, Isa::kAvx512, Isa::kAmx}) {
    if (isa_name(isa) == cap) return std::min(best, isa);  // never above what the CPU has
  }
  fail("AUTARKY_ISA={}: unknown instruction set (expected ref, portable, avx2, avx512 or amx)", cap);
}
}  // namespace

Isa default_isa() {
  static const Isa isa = detect_default_isa();  // fixed for the life of the process
  return isa;
}

}  // namespace autarky
