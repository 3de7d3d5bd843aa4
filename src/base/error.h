#pragma once
// Errors and invariant checks.
//
// Bad input from the outside world (files, HTTP, CLI) is reported with autarky::Error, whose
// message carries the offending values ("tensor blk.3.attn_q.weight: offset 9123 + 4096 bytes
// past end of file (size 10000)"). Broken internal invariants are programming errors and abort
// through AUTARKY_ASSERT, which stays on in release builds because a silent wrong logit is worse
// than a crash report.

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace autarky {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

[[noreturn]] void assertion_failed(const char* expr, const char* file, int line, const std::string& msg);

}  // namespace autarky

#define AUTARKY_ASSERT(cond, ...)                                                         \
  do {                                                                                    \
    if (!(cond)) [[unlikely]]                                                             \
      ::autarky::assertion_failed(#cond, __FILE__, __LINE__, ::fmt::format("" __VA_ARGS__)); \
  } while (0)

#ifdef NDEBUG
#define AUTARKY_DASSERT(cond, ...) ((void)0)
#else
#define AUTARKY_DASSERT(cond, ...) AUTARKY_ASSERT(cond, __VA_ARGS__)
#endif
