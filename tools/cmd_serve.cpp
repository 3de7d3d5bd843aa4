// `autarky serve -m MODEL [--host 127.0.0.1] [--port 8080] [--slots N] [--ctx N] ...`: the
// OpenAI-compatible HTTP server (src/server) over the continuous-batching Scheduler.
//
// The socket is bound before the model loads, so /health can say "loading" (503) and then "ok".
// Without API keys anyone who reaches the port can spend the machine's compute, so open mode is
// refused on a non-loopback --host unless --allow-open says that is intended.

#include <fmt/format.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <pthread.h>
#include <thread>

#include "base/error.h"
#include "base/log.h"
#include "command.h"
#include "compliance/provenance.h"
#include "compliance_flags.h"
#include "engine/scheduler.h"
#include "inference_flags.h"
#include "model/model.h"
#include "server/api_server.h"
#include "server/completion_service.h"
#include "server/compliance_annotator.h"
#include "server/ledger_access.h"
#include "tenants/ledger.h"
#include "text/tokenizer.h"

namespace autarky::cli {
namespace {

struct ServeOptions {
  std::string model;
  std::string alias;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string db;
  bool require_key = false;
  bool allow_open = false;
  int slots = 4;
  int max_queue = 16;
  std::int64_t n_ctx = 0;
  int threads = 0;
  std::size_t max_body_bytes = 4u << 20;
  ComplianceFlags compliance;   // labels, watermark, audit log (as for `run`)
  std::string watermark_default = "on";  // for keys without their own choice (with --watermark-key)
  std::string verify_manifest;  // refuse the model unless it verifies against this manifest
  std::string pubkey;           // ... signed by this Ed25519 public key
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// Blocks the shutdown signals in this thread and every thread started after, so that only the
// sigwait() in run_serve() receives them.
sigset_t block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A client that closes its socket must cost us a failed write, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  return set;
}

// Keys whose policy asks for the watermark are served unwatermarked by a server without a
// watermark key (server/compliance_annotator.h); say so at start-up rather than only per request.
void warn_unwatermarkable_keys(tenants::Ledger& ledger, bool have_watermark_key) {
  if (have_watermark_key) return;
  for (const tenants::KeyInfo& key : ledger.list_keys()) {
    if (!key.revoked() && key.policy.watermark.value_or(false)) {
      AUTARKY_LOG_WARN("serve: key {} ({}) asks for the watermark, but there is no --watermark-key: it will not be "
                       "watermarked",
                       key.id, key.name);
    }
  }
}

int run_serve(ServeOptions& o) {
  if (o.require_key && o.db.empty()) fail("serve: --require-key needs --db LEDGER (keys: `autarky keys create`)");
  if (!o.db.empty() && !o.require_key) fail("serve: --db {} is the API-key ledger; add --require-key to use it", o.db);
  if (!is_loopback(o.host) && !o.require_key && !o.allow_open) {
    fail("serve: --host {} is not a loopback address; without --require-key anyone who reaches it can use the "
         "model. Add --require-key (API keys), or --allow-open if an open server is really intended",
         o.host);
  }
  if (o.slots < 1) fail("serve: --slots {} must be at least 1", o.slots);
  if (o.max_queue < 0) fail("serve: --max-queue {} must not be negative", o.max_queue);
  if (o.alias.empty()) o.alias = std::filesystem::path(o.model).stem().string();
  if (o.verify_manifest.empty() != o.pubkey.empty()) fail("serve: --verify-manifest and --pubkey go together");
  // Keys, audit log and model provenance are checked before the port opens: a server that
  // would refuse its model or cannot label must not start answering /health.
  Compliance compliance = make_compliance(o.compliance);
  if (!o.verify_manifest.empty()) {
    auto verified = compliance::require_verified_model(o.model, o.verify_manifest, o.pubkey);
    AUTARKY_LOG_INFO("serve: {} verified against {} (publisher \"{}\"{})", o.model, o.verify_manifest,
                     verified.manifest.publisher, verified.hash_from_cache ? ", hash from cache" : "");
  }

  const sigset_t shutdown_signals = block_shutdown_signals();
  // The ledger must exist already: a typo in --db would otherwise start a server no key opens.
  std::unique_ptr<tenants::Ledger> ledger;
  std::unique_ptr<server::AccessPolicy> access;
  if (o.require_key) {
    ledger = std::make_unique<tenants::Ledger>(o.db, tenants::OpenMode::kMustExist);
    if (ledger->count_active_keys() == 0) {
      AUTARKY_LOG_WARN("serve: {} has no active key yet; create one with `autarky keys create --db {} --name NAME`",
                       o.db, o.db);
    }
    warn_unwatermarkable_keys(*ledger, compliance.watermark != nullptr);
    access = std::make_unique<server::LedgerAccess>(*ledger);
  } else {
    access = std::make_unique<server::OpenAccess>();
  }
  server::ApiServerOptions http;
  http.host = o.host;
  http.port = o.port;
  http.max_body_bytes = o.max_body_bytes;
  // Every admitted or queued request holds an HTTP thread; a few more keep /health and /metrics
  // answering when the queue is full.
  http.http_threads = o.slots + o.max_queue + 8;
  // The watermark is applied per request by the compliance hooks: keys may turn it on or off.
  server::ServerCompliance per_key{std::make_shared<const compliance::ResponseLabeler>(compliance.labeler),
                                   compliance.watermark,
                                   tenants::parse_on_off("--watermark-default", o.watermark_default)};
  server::ApiServer api(http, *access, server::compliance_hooks(std::move(per_key)));
  const int port = api.bind();
  std::thread http_thread([&api] { api.serve(); });
  AUTARKY_LOG_INFO("serve: listening on http://{}:{} ({})", o.host, port,
                   o.require_key ? fmt::format("API keys from {}", o.db) : std::string("open mode: no API keys"));

  struct Loaded {
    Model model;
    std::unique_ptr<text::Tokenizer> tokenizer;
    std::unique_ptr<ThreadPool> pool;
    std::unique_ptr<Scheduler> scheduler;
    std::unique_ptr<server::CompletionService> service;
  };
  std::unique_ptr<Loaded> loaded;
  try {
    Model model = Model::load(o.model);
    auto tokenizer = text::Tokenizer::from_gguf(model.file());
    loaded = std::make_unique<Loaded>(Loaded{std::move(model), std::move(tokenizer), nullptr, nullptr, nullptr});
    loaded->pool = std::make_unique<ThreadPool>(o.threads);
    SchedulerOptions sched;
    sched.n_slots = o.slots;
    sched.max_queued = o.max_queue;
    ModelFlags ctx_flags;
    ctx_flags.n_ctx = o.n_ctx;
    sched.n_ctx_per_slot = context_size(ctx_flags, loaded->model.config().n_ctx_train);
    loaded->scheduler = std::make_unique<Scheduler>(loaded->model, *loaded->tokenizer, *loaded->pool, sched);
    loaded->service = std::make_unique<server::CompletionService>(o.alias, loaded->model, *loaded->tokenizer,
                                                                  *loaded->scheduler);
  } catch (...) {
    api.stop();
    http_thread.join();
    throw;
  }
  api.set_service(loaded->service.get());
  AUTARKY_LOG_INFO("serve: model '{}' ready: {} slots x {} tokens of context, queue {}, {} threads{}", o.alias, o.slots,
                   loaded->scheduler->n_ctx_per_slot(), o.max_queue, loaded->pool->size(),
                   loaded->service->uses_fallback_template() ? "; no chat template in the model, using ChatML" : "");

  int signal = 0;
  sigwait(&shutdown_signals, &signal);
  AUTARKY_LOG_INFO("serve: signal {}, shutting down", signal);
  api.stop();
  http_thread.join();  // requests in flight finish first
  api.set_service(nullptr);
  return 0;
}

const RegisterCommand kServe{
    "serve", "OpenAI-compatible HTTP server (chat/completions, streaming, metrics)", [](CLI::App& app) {
      auto o = std::make_shared<ServeOptions>();
      app.add_option("-m,--model", o->model, "GGUF model")->required();
      app.add_option("--alias", o->alias, "Model name clients use (default: the file name without .gguf)");
      app.add_option("--host", o->host, "Address to listen on")->capture_default_str();
      app.add_option("--port", o->port, "Port (0: any free port, printed at start)")->capture_default_str();
      app.add_option("--db", o->db, "Tenants ledger (SQLite) for API keys and quotas");
      app.add_flag("--require-key", o->require_key, "Require an API key (from --db) on every request");
      app.add_flag("--allow-open", o->allow_open, "Allow open mode (no keys) on a non-loopback --host");
      app.add_option("--slots", o->slots, "Requests decoded together (continuous batching)")->capture_default_str();
      app.add_option("--max-queue", o->max_queue, "Requests waiting for a slot before 503")->capture_default_str();
      app.add_option("-c,--ctx,--ctx-size", o->n_ctx, "Context per slot (default: min(4096, model's))");
      app.add_option("-t,--threads", o->threads, "Compute threads (default: physical cores)");
      app.add_option("--max-body-bytes", o->max_body_bytes, "Largest request body accepted")->capture_default_str();
      add_compliance_flags(app, o->compliance, /*with_output=*/false);
      app.add_option("--watermark-default", o->watermark_default,
                     "Watermark responses of keys that do not choose (keys policy --watermark): on or off")
          ->check(CLI::IsMember({"on", "off"}))
          ->capture_default_str();
      app.add_option("--verify-manifest", o->verify_manifest,
                     "Refuse to serve the model unless it verifies against this signed manifest (autarky sign)");
      app.add_option("--pubkey", o->pubkey, "Ed25519 public key (PEM) the manifest must be signed with");
      return [o] { return run_serve(*o); };
    }};

}  // namespace
}  // namespace autarky::cli
