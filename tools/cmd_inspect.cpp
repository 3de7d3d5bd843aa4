// `autarky inspect MODEL [--json]`: metadata and tensor table of a GGUF file.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>

#include "command.h"
#include "gguf/gguf_file.h"

namespace autarky::cli {
namespace {

nlohmann::json to_json(const GgufValue& v) {
  return std::visit(
      [](const auto& x) -> nlohmann::json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, GgufArray>) {
          nlohmann::json arr = nlohmann::json::array();
          for (const auto& item : x.items) arr.push_back(to_json(item));
          return arr;
        } else if constexpr (std::is_same_v<T, std::string>) {
          // Metadata strings are not guaranteed to be valid UTF-8; keep the bytes visible.
          return nlohmann::json(x);
        } else {
          return nlohmann::json(x);
        }
      },
      v.v);
}

std::string human_bytes(std::uint64_t n) {
  if (n >= (1ull << 30)) return fmt::format("{:.2f} GiB", n / double(1ull << 30));
  if (n >= (1ull << 20)) return fmt::format("{:.2f} MiB", n / double(1ull << 20));
  if (n >= (1ull << 10)) return fmt::format("{:.2f} KiB", n / double(1ull << 10));
  return fmt::format("{} B", n);
}

int print_json(const GgufFile& f) {
  nlohmann::json j;
  j["path"] = f.path();
  j["version"] = f.version();
  j["alignment"] = f.alignment();
  j["file_size"] = f.file_size();
  j["data_offset"] = f.data_offset();
  nlohmann::json meta = nlohmann::json::object();
  nlohmann::json meta_types = nlohmann::json::object();
  for (const auto& kv : f.metadata()) {
    meta[kv.key] = to_json(kv.value);
    meta_types[kv.key] = gguf_type_name(kv.value.type());
  }
  j["metadata"] = meta;
  j["metadata_types"] = meta_types;
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : f.tensors()) {
    tensors.push_back({{"name", t.name},
                       {"type", dtype_name(t.type)},
                       {"shape", t.ne},
                       {"n_elements", t.n_elements},
                       {"bytes", t.n_bytes},
                       {"offset", t.offset}});
  }
  j["tensors"] = tensors;
  std::string out = j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

int print_text(const GgufFile& f) {
  fmt::print("{}: GGUF v{}, {} metadata entries, {} tensors, {} (alignment {}, data at offset {})\n", f.path(),
             f.version(), f.metadata().size(), f.tensors().size(), human_bytes(f.file_size()), f.alignment(),
             f.data_offset());
  fmt::print("\nmetadata:\n");
  std::size_t key_width = 0;
  for (const auto& kv : f.metadata()) key_width = std::max(key_width, kv.key.size());
  for (const auto& kv : f.metadata()) {
    fmt::print("  {:<{}}  {:<4} {}\n", kv.key, key_width, gguf_type_name(kv.value.type()), kv.value.to_display());
  }

  std::size_t name_width = 4;
  for (const auto& t : f.tensors()) name_width = std::max(name_width, t.name.size());
  fmt::print("\ntensors:\n  {:<{}}  {:<7} {:<22} {:>12}\n", "name", name_width, "type", "shape", "bytes");
  std::map<std::string, std::pair<std::size_t, std::uint64_t>> per_type;
  std::uint64_t total_elements = 0;
  for (const auto& t : f.tensors()) {
    fmt::print("  {:<{}}  {:<7} {:<22} {:>12}\n", t.name, name_width, dtype_name(t.type), t.shape_string(), t.n_bytes);
    auto& [count, bytes] = per_type[std::string(dtype_name(t.type))];
    ++count;
    bytes += t.n_bytes;
    total_elements += t.n_elements;
  }
  fmt::print("\n{} parameters;", total_elements);
  for (const auto& [type, cb] : per_type) fmt::print(" {} x {} ({})", cb.first, type, human_bytes(cb.second));
  fmt::print("\n");
  return 0;
}

const RegisterCommand kInspect{
    "inspect", "Print the metadata and tensor table of a GGUF model", [](CLI::App& app) {
      auto path = std::make_shared<std::string>();
      auto json = std::make_shared<bool>(false);
      app.add_option("model", *path, "GGUF file")->required();
      app.add_flag("--json", *json, "Machine-readable output");
      return [path, json] {
        GgufFile f = GgufFile::open(*path);
        return *json ? print_json(f) : print_text(f);
      };
    }};

}  // namespace
}  // namespace autarky::cli
