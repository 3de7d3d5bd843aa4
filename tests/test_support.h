#pragma once
// Helpers shared by tests: where the golden data is, temporary directories, small file I/O.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace autarky::test {

// The shared/golden directory, or an empty path if it cannot be found. Looked up in
// $AUTARKY_GOLDEN_DIR, then the path configured at build time, then /work/shared/golden.
std::filesystem::path golden_dir();

// Skips the current test (with a message saying why) when the golden data is not available.
#define AUTARKY_REQUIRE_GOLDEN()                                                            \
  do {                                                                                      \
    if (::autarky::test::golden_dir().empty()) GTEST_SKIP() << "shared/golden not found"; \
  } while (0)

std::filesystem::path source_dir();
std::filesystem::path bundled_model();  // models/stories260K.gguf in the source tree
std::string cli_path();                 // the built `autarky` binary

// A fresh directory under the system temp dir, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A copy of the bundled model with a minimal chat template ("role: content" lines, then
// "assistant:"), written into `dir`, for `autarky chat` tests; returns its path.
std::string bundled_chat_model(const TempDir& dir);

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path);
void write_bytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes);
std::vector<float> read_f32(const std::filesystem::path& path);

struct CommandResult {
  int exit_code;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs a shell command line, capturing stdout and stderr.
CommandResult run_command(const std::string& command_line);

}  // namespace autarky::test
