// `autarky audit verify --log FILE [--key KEYFILE] [--anchor SEQ:HASH] [--json]`: checks the hash
// chain (and, with the key, the keyed MACs) of an audit log and names the first bad record.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <optional>

#include "command.h"
#include "compliance/audit_log.h"

namespace autarky::cli {
namespace {

const RegisterCommand kAudit{
    "audit", "Audit log tools", [](CLI::App& app) {
      struct Options {
        std::string log, key, anchor;
        bool json = false;
      };
      auto o = std::make_shared<Options>();
      app.require_subcommand(1);
      CLI::App* verify = app.add_subcommand("verify", "Verify an audit log's chain; name the first bad record");
      verify->add_option("--log", o->log, "Audit log (JSON lines)")->required();
      verify->add_option("--key", o->key, "Provider key file: also check the keyed MACs");
      verify->add_option("--anchor", o->anchor, "SEQ:HASH of a record known to exist (detects tail truncation)");
      verify->add_flag("--json", o->json, "Machine-readable result on stdout");
      return [o, verify] {
        if (!verify->parsed()) return 1;
        std::optional<compliance::SecretKey> key;
        if (!o->key.empty()) key = compliance::SecretKey::load(o->key);
        std::optional<compliance::AuditAnchor> anchor;
        if (!o->anchor.empty()) anchor = compliance::AuditAnchor::parse(o->anchor);
        auto r = compliance::verify_audit_log(o->log, key, anchor);
        if (o->json) {
          nlohmann::json j = {{"ok", r.ok},
                              {"records", r.n_records},
                              {"first_bad_line", r.first_bad_line},
                              {"reason", r.reason},
                              {"head", fmt::format("{}:{}", r.head.n_records == 0 ? 0 : r.head.n_records - 1,
                                                   r.head.last_hash)},
                              {"macs_checked", r.macs_checked}};
          fmt::print("{}\n", j.dump());
        }
        if (!r.ok) {
          std::fprintf(stderr, "TAMPERED: %s line %llu: %s (%llu records before it verify)\n", o->log.c_str(),
                       static_cast<unsigned long long>(r.first_bad_line), r.reason.c_str(),
                       static_cast<unsigned long long>(r.n_records));
          return 1;
        }
        if (!o->json) {
          fmt::print("OK: {} records, chain intact{}\n", r.n_records,
                     r.macs_checked ? ", MACs verified with the key" : " (MACs not checked: no --key)");
          if (r.n_records > 0)
            fmt::print("head (keep a copy elsewhere, pass it as --anchor later): {}:{}\n", r.n_records - 1,
                       r.head.last_hash);
        }
        return 0;
      };
    }};

}  // namespace
}  // namespace autarky::cli
