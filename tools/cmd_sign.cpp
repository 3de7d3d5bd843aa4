// `autarky sign MODEL --key PRIVATE.pem --out MANIFEST [--publisher NAME]`: a signed provenance
// manifest for a model file (src/compliance/provenance.h).

#include <fmt/format.h>

#include <memory>

#include "command.h"
#include "compliance/provenance.h"

namespace autarky::cli {
namespace {

const RegisterCommand kSign{
    "sign", "Sign a model file: SHA-256 + Ed25519 manifest", [](CLI::App& app) {
      struct Options {
        std::string model, key, out, publisher;
        bool no_cache = false;
      };
      auto o = std::make_shared<Options>();
      app.add_option("model", o->model, "Model file")->required();
      app.add_option("--key", o->key, "Ed25519 private key, PEM (openssl genpkey -algorithm ed25519)")->required();
      app.add_option("--out", o->out, "Manifest to write")->required();
      app.add_option("--publisher", o->publisher, "Who vouches for this file");
      app.add_flag("--no-cache", o->no_cache, "Do not use or update the hash cache");
      return [o] {
        auto key = compliance::Ed25519Key::load_private_pem(o->key);
        compliance::HashCache cache(compliance::HashCache::default_path());
        auto m = compliance::sign_model(o->model, key, o->publisher, o->no_cache ? nullptr : &cache);
        compliance::write_manifest(o->out, m);
        fmt::print("signed {} ({} bytes, sha256 {}) with key {} -> {}\n", o->model, m.size, m.sha256,
                   m.key_fingerprint, o->out);
        return 0;
      };
    }};

}  // namespace
}  // namespace autarky::cli
