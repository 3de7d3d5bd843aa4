#include "server/api_server.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

#include "base/error.h"
#include "base/log.h"
#include "server/completion_handler.h"
#include "server/completion_service.h"
#include "server/http_util.h"

namespace autarky::server {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

ApiError model_loading() { return overloaded("the model is still loading; retry shortly", 2); }

}  // namespace

ApiServer::ApiServer(ApiServerOptions options, AccessPolicy& access, ResponseHooks hooks)
    : options_(std::move(options)), access_(access), hooks_(std::move(hooks)), http_(std::make_unique<httplib::Server>()) {
  const auto threads = static_cast<std::size_t>(std::max(options_.http_threads, 4));
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_read_timeout(30);
  http_->set_write_timeout(30);
  http_->set_keep_alive_timeout(5);
  register_routes();
}

ApiServer::~ApiServer() { stop(); }

int ApiServer::bind() {
  if (options_.port == 0) {
    const int port = http_->bind_to_any_port(options_.host);
    if (port <= 0) fail("serve: cannot listen on {} (any port)", options_.host);
    options_.port = port;
  } else if (!http_->bind_to_port(options_.host, options_.port)) {
    fail("serve: cannot listen on {}:{} (address in use, or not an address of this machine?)", options_.host,
         options_.port);
  }
  return options_.port;
}

void ApiServer::serve() { http_->listen_after_bind(); }

void ApiServer::stop() {
  if (http_ && http_->is_running()) http_->stop();
}

void ApiServer::register_routes() {
  httplib::Server& http = *http_;

  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const bool ready = service_.load() != nullptr;
    write_json(res, ready ? 200 : 503, {{"status", ready ? "ok" : "loading"}});
    metrics_.count_request("/health", res.status, 0.0);
  });

  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    SchedulerGauges gauges;
    if (CompletionService* service = service_.load()) {
      const SchedulerStats stats = service->scheduler().stats();
      gauges = {stats.queued, stats.active, stats.last_batch_sequences, stats.cancelled, true};
    }
    res.set_content(metrics_.render(gauges), "text/plain; version=0.0.4");
  });

  http.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
    const auto started = Clock::now();
    CompletionService* service = service_.load();
    // Listing models needs a valid key but is not a billed request.
    if (auto error = access_.authenticate(bearer_token(req))) {
      write_error(res, *error);
    } else if (service == nullptr) {
      write_error(res, model_loading());
    } else {
      const nlohmann::json model = {
          {"id", service->model_id()}, {"object", "model"}, {"created", 0}, {"owned_by", "autarky"}};
      write_json(res, 200, {{"object", "list"}, {"data", nlohmann::json::array({model})}});
    }
    metrics_.count_request("/v1/models", res.status, seconds_since(started));
  });

  auto completion_route = [this](ApiRoute route) {
    return [this, route](const httplib::Request& req, httplib::Response& res) {
      CompletionService* service = service_.load();
      if (service == nullptr) {
        write_error(res, model_loading());
        metrics_.count_request(route == ApiRoute::kChatCompletions ? "/v1/chat/completions" : "/v1/completions",
                               res.status, 0.0);
        return;
      }
      handle_completion_request(CompletionContext{*service, access_, hooks_, metrics_, options_.limits}, route, req, res);
    };
  };
  http.Post("/v1/chat/completions", completion_route(ApiRoute::kChatCompletions));
  http.Post("/v1/completions", completion_route(ApiRoute::kCompletions));

  // Whatever httplib refuses itself (unknown route, body too large, bad HTTP) still gets an
  // OpenAI error body; responses our handlers wrote are left alone.
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    ApiError error = not_found(fmt::format("no route for {} {}", req.method, req.path));
    if (res.status == 413) {
      error = ApiError{413, fmt::format("the request body is larger than {} bytes", options_.max_body_bytes),
                       "invalid_request_error", {}, "request_too_large", {}};
    } else if (res.status != 404) {
      error = ApiError{res.status, fmt::format("HTTP error {} for {} {}", res.status, req.method, req.path),
                       "invalid_request_error", {}, {}, {}};
    }
    write_error(res, error);
    metrics_.count_request("other", res.status, 0.0);
    return httplib::Server::HandlerResponse::Handled;
  }));

  // A bug of ours must not take the process down: the client gets a 500, the log the reason.
  http.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    AUTARKY_LOG_WARN("serve: {} {} failed: {}", req.method, req.path, what);
    write_error(res, internal_error("internal error while handling the request"));
  });
}

}  // namespace autarky::server
