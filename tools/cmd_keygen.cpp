// `autarky keygen --out KEYFILE`: a new 32-byte provider secret (64 hex digits, mode 0600) for
// the watermark, content-label integrity codes and the audit log's keyed chain.

#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "base/error.h"
#include "command.h"
#include "compliance/secret_key.h"

namespace autarky::cli {
namespace {

const RegisterCommand kKeygen{
    "keygen", "Make a provider secret key (watermark, label integrity codes, audit chain)", [](CLI::App& app) {
      auto out = std::make_shared<std::string>();
      auto force = std::make_shared<bool>(false);
      app.add_option("--out", *out, "Key file to write (mode 0600)")->required();
      app.add_flag("--force", *force, "Replace an existing key file");
      return [out, force] {
        if (!*force && std::filesystem::exists(*out))
          fail("{}: exists; refusing to replace a key (data marked with it could no longer be checked). "
               "Use --force if you mean it",
               *out);
        auto key = compliance::SecretKey::generate();
        key.save(*out);
        fmt::print("wrote {} (key id {})\n", *out, key.key_id());
        return 0;
      };
    }};

}  // namespace
}  // namespace autarky::cli
