#pragma once
// The OpenAI-compatible HTTP server (cpp-httplib). Routes are thin: they authenticate through
// the AccessPolicy, parse with parse_completion_request, prepare through the CompletionService
// (template, tokenizer) and generate through the Scheduler; this file knows HTTP, not models.
//
//   POST /v1/chat/completions, POST /v1/completions   (streamed as SSE when "stream": true)
//   GET  /v1/models, GET /health, GET /metrics
//
// The server listens before the model is loaded: /health answers 503 until set_service() is
// called, so orchestrators can watch a slow load. Every refusal is an OpenAI error object.

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "server/access.h"
#include "server/metrics.h"
#include "server/openai_request.h"
#include "server/response_hook.h"

namespace httplib {
class Server;
class Request;
class Response;
}  // namespace httplib

namespace autarky::server {

class CompletionService;

struct ApiServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see bind())
  std::size_t max_body_bytes = 4u << 20;
  // HTTP worker threads. A request holds one for its whole duration (a stream until its end),
  // so this bounds the requests in flight; it should exceed the scheduler's slots + queue.
  int http_threads = 32;
  RequestLimits limits;
};

class ApiServer {
 public:
  ApiServer(ApiServerOptions options, AccessPolicy& access, ResponseHooks hooks = {});
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds the listening socket; returns the port (useful with port 0). Throws Error on failure.
  int bind();
  // Serves until stop(); call after bind(), typically on its own thread.
  void serve();
  void stop();

  // The model is ready: completions are served from now on. The service must outlive the server.
  void set_service(CompletionService* service) { service_.store(service); }
  ServerMetrics& metrics() { return metrics_; }

 private:
  void register_routes();
  void handle_completion(ApiRoute route, const httplib::Request& req, httplib::Response& res);

  ApiServerOptions options_;
  AccessPolicy& access_;
  ResponseHooks hooks_;
  ServerMetrics metrics_;
  std::atomic<CompletionService*> service_{nullptr};
  std::unique_ptr<httplib::Server> http_;
};

}  // namespace autarky::server
