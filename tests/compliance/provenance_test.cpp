// Model provenance: sign/verify round trip with keys made by OpenSSL's own CLI, and refusal of
// every kind of tampering (file byte, manifest field, signature, wrong key), plus the hash cache.

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "base/error.h"
#include "compliance/provenance.h"
#include "test_support.h"

namespace autarky::compliance {
namespace {

struct Keys {
  std::string priv, pub;
};

// Keys exactly as an operator would make them (the format `autarky sign` must accept).
Keys make_openssl_keys(const test::TempDir& dir, const std::string& stem) {
  Keys k{(dir / (stem + ".pem")).string(), (dir / (stem + ".pub.pem")).string()};
  auto r1 = test::run_command("openssl genpkey -algorithm ed25519 -out " + k.priv);
  auto r2 = test::run_command("openssl pkey -in " + k.priv + " -pubout -out " + k.pub);
  if (r1.exit_code != 0 || r2.exit_code != 0) {
    // No openssl CLI: make them through the library and write the same PEM formats.
    auto key = Ed25519Key::generate();
    std::ofstream(k.priv) << key.private_pem();
    std::ofstream(k.pub) << key.public_pem();
  }
  return k;
}

std::string make_model(const test::TempDir& dir, std::size_t size) {
  std::vector<std::uint8_t> bytes(size);
  std::uint32_t x = 12345;
  for (auto& b : bytes) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  std::string path = (dir / "model.gguf").string();
  test::write_bytes(path, bytes);
  return path;
}

TEST(Provenance, SignThenVerifyWithOpensslKeys) {
  test::TempDir dir;
  Keys keys = make_openssl_keys(dir, "signer");
  std::string model = make_model(dir, 1 << 20);
  auto priv = Ed25519Key::load_private_pem(keys.priv);
  ModelManifest m = sign_model(model, priv, "ACME Models 测试", nullptr);
  std::string manifest = (dir / "model.manifest.json").string();
  write_manifest(manifest, m);

  auto r = verify_model(model, manifest, keys.pub, nullptr);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.actual_sha256, to_hex(sha256(test::read_bytes(model))));
  EXPECT_EQ(r.manifest.size, 1u << 20);
  EXPECT_EQ(r.manifest.publisher, "ACME Models 测试");
  EXPECT_EQ(r.manifest.name, "model.gguf");
}

TEST(Provenance, OneChangedByteIsRefused) {
  test::TempDir dir;
  Keys keys = make_openssl_keys(dir, "signer");
  std::string model = make_model(dir, 300000);
  write_manifest((dir / "m.json").string(), sign_model(model, Ed25519Key::load_private_pem(keys.priv), "p", nullptr));
  auto bytes = test::read_bytes(model);
  bytes[123456] ^= 0x01;
  test::write_bytes(model, bytes);
  auto r = verify_model(model, (dir / "m.json").string(), keys.pub, nullptr);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("SHA-256"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("modified"), std::string::npos) << r.reason;
}

TEST(Provenance, RequireVerifiedModelThrowsRefusalForTamperedFile) {
  test::TempDir dir;
  Keys keys = make_openssl_keys(dir, "signer");
  std::string model = make_model(dir, 200000);
  const std::string manifest = (dir / "m.json").string();
  write_manifest(manifest, sign_model(model, Ed25519Key::load_private_pem(keys.priv), "p", nullptr));
  EXPECT_TRUE(require_verified_model(model, manifest, keys.pub, /*use_cache=*/false).ok);
  auto bytes = test::read_bytes(model);
  bytes[777] ^= 0x80;
  test::write_bytes(model, bytes);
  try {
    require_verified_model(model, manifest, keys.pub, /*use_cache=*/false);
    ADD_FAILURE() << "a tampered model was accepted";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("REFUSED"), std::string::npos) << what;
    EXPECT_NE(what.find("modified"), std::string::npos) << what;
    EXPECT_NE(what.find(model), std::string::npos) << what;
  }
}

TEST(Provenance, TruncatedFileIsRefusedBySize) {
  test::TempDir dir;
  Keys keys = make_openssl_keys(dir, "signer");
  std::string model = make_model(dir, 4096);
  write_manifest((dir / "m.json").string(), sign_model(model, Ed25519Key::load_private_pem(keys.priv), "p", nullptr));
  auto bytes = test::read_bytes(model);
  bytes.pop_back();
  test::write_bytes(model, bytes);
  auto r = verify_model(model, (dir / "m.json").string(), keys.pub, nullptr);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("size 4095"), std::string::npos) << r.reason;
}

TEST(Provenance, EveryManifestFieldIsCoveredBySignature) {
  test::TempDir dir;
  Keys keys = make_openssl_keys(dir, "signer");
  std::string model = make_model(dir, 5000);
  auto key = Ed25519Key::load_private_pem(keys.priv);
  auto pub = Ed25519Key::load_public_pem(keys.pub);
  const ModelManifest good = sign_model(model, key, "publisher", nullptr);
  ASSERT_TRUE(verify_model(model, good, pub, nullptr).ok);

  std::vector<std::function<void(ModelManifest&)>> edits = {
      [](ModelManifest& m) { m.name += "x"; },
      [](ModelManifest& m) { m.size += 1; },
      [](ModelManifest& m) { m.sha256[0] = m.sha256[0] == 'a' ? 'b' : 'a'; },
      [](ModelManifest& m) { m.publisher = "someone else"; },
      [](ModelManifest& m) { m.created = "2020-01-01T00:00:00Z"; },
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    ModelManifest m = good;
    edits[i](m);
    auto r = verify_model(model, m, pub, nullptr);
    EXPECT_FALSE(r.ok) << "edit " << i;
    EXPECT_NE(r.reason.find("altered"), std::string::npos) << "edit " << i << ": " << r.reason;
  }
  ModelManifest bad_sig = good;
  auto sig = from_base64(bad_sig.signature, "sig");
  sig[10] ^= 0x80;
  bad_sig.signature = to_base64(sig);
  EXPECT_FALSE(verify_model(model, bad_sig, pub, nullptr).ok);
  ModelManifest garbage_sig = good;
  garbage_sig.signature = "not base64!";
  EXPECT_FALSE(verify_model(model, garbage_sig, pub, nullptr).ok);
}

TEST(Provenance, WrongPublicKeyIsRefusedAndNamed) {
  test::TempDir dir;
  Keys signer = make_openssl_keys(dir, "signer");
  Keys other = make_openssl_keys(dir, "other");
  std::string model = make_model(dir, 5000);
  write_manifest((dir / "m.json").string(), sign_model(model, Ed25519Key::load_private_pem(signer.priv), "p", nullptr));
  auto r = verify_model(model, (dir / "m.json").string(), other.pub, nullptr);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("trusted key is " + key_fingerprint(Ed25519Key::load_public_pem(other.pub))),
            std::string::npos)
      << r.reason;
}

TEST(Provenance, MalformedInputsBecomeReasonsNotCrashes) {
  test::TempDir dir;
  Keys keys = make_openssl_keys(dir, "signer");
  std::string model = make_model(dir, 100);
  std::ofstream((dir / "bad.json").string()) << "{\"format\": \"autarky-model-manifest/1\"";
  auto r = verify_model(model, (dir / "bad.json").string(), keys.pub, nullptr);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("not valid JSON"), std::string::npos) << r.reason;
  // A private key where the public one is expected, and a missing model.
  write_manifest((dir / "m.json").string(), sign_model(model, Ed25519Key::load_private_pem(keys.priv), "p", nullptr));
  EXPECT_FALSE(verify_model(model, (dir / "m.json").string(), (dir / "nope.pem").string(), nullptr).ok);
  EXPECT_FALSE(verify_model((dir / "missing.gguf").string(), (dir / "m.json").string(), keys.pub, nullptr).ok);
}

TEST(Provenance, CacheServesSecondVerifyAndNoticesInPlaceEdits) {
  test::TempDir dir;
  Keys keys = make_openssl_keys(dir, "signer");
  std::string model = make_model(dir, 200000);
  // Window 0: trust entries even for a file written a moment ago (the default 2 s window is
  // tested below); the in-place edit then relies on ctime alone.
  HashCache cache((dir / "cache" / "hashes.json").string(), /*racy_window_ns=*/0);
  auto priv = Ed25519Key::load_private_pem(keys.priv);
  auto pub = Ed25519Key::load_public_pem(keys.pub);
  ModelManifest m = sign_model(model, priv, "p", &cache);  // hashes and fills the cache

  auto first = verify_model(model, m, pub, &cache);
  ASSERT_TRUE(first.ok) << first.reason;
  EXPECT_TRUE(first.hash_from_cache);

  // Same size, mtime put back as it was: only ctime (and the content) differ. The pause moves the
  // kernel's coarse file-time clock past the tick in which the file was written.
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  struct stat before {};
  ASSERT_EQ(::stat(model.c_str(), &before), 0);
  auto bytes = test::read_bytes(model);
  bytes[777] ^= 0xff;
  {
    std::fstream f(model, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(777);
    f.put(static_cast<char>(bytes[777]));
  }
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, model.c_str(), times, 0), 0);
  auto after_edit = verify_model(model, m, pub, &cache);
  EXPECT_FALSE(after_edit.ok);
  EXPECT_FALSE(after_edit.hash_from_cache);

  // A corrupt cache file is ignored, not trusted and not fatal.
  std::ofstream(cache.file()) << "garbage";
  bytes[777] ^= 0xff;
  test::write_bytes(model, bytes);
  auto restored = verify_model(model, m, pub, &cache);
  EXPECT_TRUE(restored.ok) << restored.reason;
  EXPECT_FALSE(restored.hash_from_cache);
  EXPECT_TRUE(verify_model(model, m, pub, &cache).hash_from_cache);
}

TEST(Provenance, CacheDoesNotTrustAFileChangedJustBeforeHashing) {
  test::TempDir dir;
  std::string model = make_model(dir, 1000);
  HashCache cache((dir / "hashes.json").string());  // default racy window
  EXPECT_FALSE(hash_file_cached(model, &cache).from_cache);
  EXPECT_FALSE(hash_file_cached(model, &cache).from_cache);  // written < 2 s ago: hashed again
}

TEST(Provenance, RejectsNonEd25519Keys) {
  test::TempDir dir;
  std::string rsa = (dir / "rsa.pem").string();
  auto r = test::run_command("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + rsa);
  if (r.exit_code != 0) GTEST_SKIP() << "openssl CLI not available";
  try {
    Ed25519Key::load_private_pem(rsa);
    FAIL() << "an EC key was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected ED25519"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace autarky::compliance
