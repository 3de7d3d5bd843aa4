#include "platform/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if (defined(__x86_64__) || defined(__i386__)) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include <cstdint>

namespace autarky {
namespace {

#if defined(__x86_64__) || defined(__i386__)
struct CpuidRegs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

CpuidRegs cpuid(unsigned leaf, unsigned subleaf) {
  CpuidRegs r;
  __cpuid_count(leaf, subleaf, r.a, r.b, r.c, r.d);
  return r;
}

std::uint64_t xgetbv0() {
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

bool bit(unsigned reg, int n) { return (reg >> n) & 1u; }

bool request_amx_permission() {
#if defined(__linux__)
  constexpr long kArchReqXcompPerm = 0x1023;  // arch_prctl code, <asm/prctl.h>
  constexpr long kXfeatureXtiledata = 18;     // the tile data state component
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

CpuFeatures detect() {
  CpuFeatures f;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  const CpuidRegs l1 = cpuid(1, 0);
  // The CPU may support AVX while the OS does not save the wider registers: XCR0 says which
  // register states the OS manages (bits 1-2: SSE/AVX, 5-7: AVX-512, 17-18: AMX tiles).
  if (!bit(l1.c, 27)) return f;  // OSXSAVE
  const std::uint64_t xcr0 = xgetbv0();
  const bool os_avx = (xcr0 & 0x6) == 0x6;
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;
  const CpuidRegs l7 = cpuid(7, 0);
  const CpuidRegs l7s1 = cpuid(7, 1);
  if (os_avx) {
    f.fma = bit(l1.c, 12);
    f.f16c = bit(l1.c, 29);
    f.avx2 = bit(l7.b, 5);
    f.avx_vnni = bit(l7s1.a, 4);
  }
  if (os_avx512) {
    f.avx512f = bit(l7.b, 16);
    f.avx512bw = bit(l7.b, 30);
    f.avx512vl = bit(l7.b, 31);
    f.avx512_vnni = bit(l7.c, 11);
    f.avx512_bf16 = bit(l7s1.a, 5);
  }
  // Linux also wants each process to ask before it uses the large AMX tile state (it then
  // saves that state on context switches); without the permission tile instructions fault.
  if (os_amx && bit(l7.d, 24) && request_amx_permission()) {
    f.amx_bf16 = bit(l7.d, 22);
    f.amx_int8 = bit(l7.d, 25);
  }
  return f;
}
#elif defined(__aarch64__)
CpuFeatures detect() {
  CpuFeatures f;
  f.neon = true;  // Advanced SIMD is mandatory on AArch64
#if defined(__linux__) && defined(HWCAP_ASIMDDP)
  f.arm_dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
  return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

}  // namespace

std::string CpuFeatures::describe() const {
  std::string s;
  auto add = [&s](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(avx2, "avx2");
  add(fma, "fma");
  add(f16c, "f16c");
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512vl, "avx512vl");
  add(avx512_vnni, "avx512_vnni");
  add(avx512_bf16, "avx512_bf16");
  add(avx_vnni, "avx_vnni");
  add(amx_int8, "amx_int8");
  add(amx_bf16, "amx_bf16");
  add(neon, "neon");
  add(arm_dotprod, "dotprod");
  return s.empty() ? "none" : s;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();  // immutable once detected
  return features;
}

}  // namespace autarky
