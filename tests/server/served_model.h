#pragma once
// The bundled model served over HTTP by an in-process ApiServer on an ephemeral port: the set-up
// shared by the server tests that speak HTTP. Each test brings its own access policy and response
// hooks; declare the access policy before the ServedModel so the server goes first.

#include <memory>
#include <thread>
#include <utility>

#include "engine/scheduler.h"
#include "model/model.h"
#include "server/api_server.h"
#include "server/completion_service.h"
#include "test_support.h"
#include "text/tokenizer.h"

namespace autarky::test {

class ServedModel {
 public:
  static constexpr const char* kName = "stories260K";

  explicit ServedModel(SchedulerOptions options)
      : model_(Model::load(bundled_model().string())),
        tokenizer_(text::Tokenizer::from_gguf(model_.file())),
        pool_(1),
        scheduler_(model_, *tokenizer_, pool_, options),
        service_(kName, model_, *tokenizer_, scheduler_) {}
  ~ServedModel() { stop(); }
  ServedModel(const ServedModel&) = delete;
  ServedModel& operator=(const ServedModel&) = delete;

  // Serves on 127.0.0.1 until stop(); `access` must outlive the server.
  void start(server::AccessPolicy& access, server::ResponseHooks hooks = {}) {
    server::ApiServerOptions options;
    options.port = 0;
    options.http_threads = 4;
    server_ = std::make_unique<server::ApiServer>(options, access, std::move(hooks));
    port_ = server_->bind();
    server_->set_service(&service_);
    thread_ = std::thread([this] { server_->serve(); });
  }

  void stop() {
    if (!server_) return;
    server_->stop();
    thread_.join();
    server_.reset();
  }

  int port() const { return port_; }

 private:
  Model model_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
  ThreadPool pool_;
  Scheduler scheduler_;
  server::CompletionService service_;
  std::unique_ptr<server::ApiServer> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace autarky::test
