// `autarky verify MODEL --manifest MANIFEST --pubkey PUBLIC.pem`: exit 0 only if the manifest's
// Ed25519 signature verifies with the given key and the file's size and SHA-256 match it.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <memory>

#include "command.h"
#include "compliance/provenance.h"

namespace autarky::cli {
namespace {

const RegisterCommand kVerify{
    "verify", "Check a model file against a signed manifest", [](CLI::App& app) {
      struct Options {
        std::string model, manifest, pubkey;
        bool no_cache = false, json = false;
      };
      auto o = std::make_shared<Options>();
      app.add_option("model", o->model, "Model file")->required();
      app.add_option("--manifest", o->manifest, "Manifest written by `autarky sign`")->required();
      app.add_option("--pubkey", o->pubkey, "Trusted Ed25519 public key, PEM (openssl pkey -pubout)")->required();
      app.add_flag("--no-cache", o->no_cache, "Hash the file even if the cache knows it");
      app.add_flag("--json", o->json, "Machine-readable result on stdout");
      return [o] {
        compliance::HashCache cache(compliance::HashCache::default_path());
        auto t0 = std::chrono::steady_clock::now();
        auto r = compliance::verify_model(o->model, o->manifest, o->pubkey, o->no_cache ? nullptr : &cache);
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (o->json) {
          nlohmann::json j = {{"ok", r.ok},
                              {"reason", r.reason},
                              {"sha256", r.actual_sha256},
                              {"hash_from_cache", r.hash_from_cache},
                              {"seconds", seconds}};
          fmt::print("{}\n", j.dump());
        }
        if (!r.ok) {
          std::fprintf(stderr, "REFUSED: %s\n", r.reason.c_str());
          return 1;
        }
        if (!o->json)
          fmt::print("OK: {} is the model signed by key {} (publisher \"{}\", {}); sha256 {}{}\n", o->model,
                     r.manifest.key_fingerprint, r.manifest.publisher, r.manifest.created, r.actual_sha256,
                     r.hash_from_cache ? " (hash from cache)" : "");
        return 0;
      };
    }};

}  // namespace
}  // namespace autarky::cli
