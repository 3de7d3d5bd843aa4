#include "test_support.h"

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

namespace autarky::test {

namespace fs = std::filesystem;

fs::path golden_dir() {
  static const fs::path dir = [] {
    std::vector<fs::path> candidates;
    if (const char* env = std::getenv("AUTARKY_GOLDEN_DIR")) candidates.emplace_back(env);
    candidates.emplace_back(AUTARKY_GOLDEN_DIR);
    candidates.emplace_back("/work/shared/golden");
    for (const auto& c : candidates) {
      std::error_code ec;
      if (fs::exists(c / "models" / "MANIFEST.json", ec)) return fs::canonical(c);
    }
    return fs::path();
  }();
  return dir;
}

fs::path source_dir() { return AUTARKY_SOURCE_DIR; }
fs::path bundled_model() { return source_dir() / "models" / "stories260K.gguf"; }
std::string cli_path() { return AUTARKY_CLI_PATH; }

std::string bundled_chat_model(const TempDir& dir) {
  GgufFile src = GgufFile::open(bundled_model().string());
  GgufWriter w;
  w.copy_metadata_from(src);
  w.set("tokenizer.chat_template",
        std::string("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                    "{% if add_generation_prompt %}assistant:{% endif %}"));
  for (const auto& t : src.tensors()) w.add_tensor(t.name, t.type, t.ne, t.data);
  const std::string path = (dir / "chat.gguf").string();
  w.write(path);
  return path;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("autarky-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<float> read_f32(const fs::path& path) {
  auto bytes = read_bytes(path);
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

CommandResult run_command(const std::string& command_line) {
  TempDir tmp;
  std::string out_path = (tmp / "stdout").string();
  std::string err_path = (tmp / "stderr").string();
  std::string full = command_line + " >" + out_path + " 2>" + err_path;
  int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  auto slurp = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

}  // namespace autarky::test
