#include "server/completion_handler.h"

#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <random>

#include "base/log.h"
#include "sampling/logprobs.h"
#include "server/client_connection.h"
#include "server/http_util.h"

namespace autarky::server {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string new_response_id(ApiRoute route) {
  std::random_device device;
  return fmt::format("{}-{:08x}{:08x}{:08x}", route == ApiRoute::kChatCompletions ? "chatcmpl" : "cmpl", device(),
                     device(), device());
}

const char* route_label(ApiRoute route) {
  return route == ApiRoute::kChatCompletions ? "/v1/chat/completions" : "/v1/completions";
}

// What the scheduler's callbacks hand over to the HTTP thread of one request.
struct CompletionChannel {
  std::mutex mutex;
  std::condition_variable changed;
  std::string unsent_text;               // produced, not yet written to the client
  std::vector<LogprobEntry> unsent_logprobs;
  std::string full_text;                 // everything produced, for the hooks
  bool finished = false;
  CompletionResult result;
};

// Everything a request needs until its response is completely sent (a stream outlives the
// handler function): shared by the scheduler callbacks and the chunked content provider.
struct RequestState {
  explicit RequestState(const CompletionContext& context) : ctx(context) {}

  CompletionContext ctx;
  OpenAiRequest request;
  PreparedRequest prepared;
  AccessGrant grant;
  ResponseMeta meta;
  Clock::time_point started;
  CompletionChannel channel;
  RequestId scheduler_id = 0;
  std::unique_ptr<ResponseAnnotator> annotator;  // may be null
  ResponseDecoration early;                      // the annotator's begin()
  std::string lead_text;  // sent before the generated text: echoed prompt + annotator's begin()
  bool usage_recorded = false;
  bool first_text_sent = false;
  std::size_t sent_text_bytes = 0;  // for legacy text_offset

  Usage usage() const {
    return Usage{channel.result.prompt_tokens, channel.result.completion_tokens};
  }
};

CompletionCallbacks make_callbacks(const std::shared_ptr<RequestState>& state) {
  CompletionCallbacks callbacks;
  callbacks.on_text = [state](std::string_view text) {
    std::lock_guard lock(state->channel.mutex);
    state->channel.unsent_text += text;
    state->channel.full_text += text;
    state->channel.changed.notify_all();
  };
  if (state->request.logprobs) {
    callbacks.on_token = [state](std::int32_t token, std::span<const float> logits) {
      const PositionLogprobs p = position_logprobs(logits, token, state->request.top_logprobs);
      const text::Tokenizer& tokenizer = state->ctx.service.tokenizer();
      LogprobEntry entry{tokenizer.token_to_piece(token), p.chosen.logprob, {}};
      for (const TokenLogprob& t : p.top) entry.top.emplace_back(tokenizer.token_to_piece(t.id), t.logprob);
      std::lock_guard lock(state->channel.mutex);
      state->channel.unsent_logprobs.push_back(std::move(entry));
    };
  }
  callbacks.on_finish = [state](const CompletionResult& result) {
    std::lock_guard lock(state->channel.mutex);
    state->channel.result = result;
    state->channel.finished = true;
    state->channel.changed.notify_all();
  };
  return callbacks;
}

// Durable accounting once the request is over (finished, failed or cancelled): the tokens were
// spent either way. Runs on the HTTP thread, never on the scheduler's (a ledger commit fsyncs).
void record_usage(RequestState& s) {
  if (s.usage_recorded) return;
  s.usage_recorded = true;
  const Usage u = s.usage();
  s.ctx.metrics.add_tokens(u.prompt_tokens, u.completion_tokens);
  try {
    s.ctx.access.record_usage(s.grant, s.meta.id, u.prompt_tokens, u.completion_tokens);
    if (s.annotator) s.annotator->done(s.grant.key_id, u.prompt_tokens, u.completion_tokens);
  } catch (const std::exception& e) {
    AUTARKY_LOG_WARN("serve: could not record the usage of {}: {}", s.meta.id, e.what());
  }
}

// The annotator's end text and decoration, or nothing without one.
std::string finish_annotation(RequestState& s, ResponseDecoration& late) {
  return s.annotator ? s.annotator->finish(late) : std::string();
}

void wait_finished(RequestState& s) {
  std::unique_lock lock(s.channel.mutex);
  s.channel.changed.wait(lock, [&] { return s.channel.finished; });
}

json take_logprobs(RequestState& s, std::vector<LogprobEntry>& entries) {
  if (!s.request.logprobs) return nullptr;
  json j = logprobs_json(s.request.route, entries, s.sent_text_bytes);
  entries.clear();
  return j;
}

void merge_fields(json& target, const ResponseDecoration& decoration) {
  for (const auto& [key, value] : decoration.fields.items()) target[key] = value;
}

// Waits for the end of generation while the client keeps its connection; false (the request
// cancelled and finished) once the client is gone. The connection is looked up only when a
// request outlasts the first interval, so short requests never pay for it.
constexpr auto kClientCheckInterval = std::chrono::milliseconds(100);

bool finished_while_client_connected(RequestState& s, const httplib::Request& req) {
  std::optional<ClientConnection> connection;
  std::unique_lock lock(s.channel.mutex);
  while (!s.channel.changed.wait_for(lock, kClientCheckInterval, [&] { return s.channel.finished; })) {
    lock.unlock();
    if (!connection) connection.emplace(req);
    const bool gone = connection->gone();
    lock.lock();
    if (gone && !s.channel.finished) {
      lock.unlock();
      s.ctx.service.scheduler().cancel(s.scheduler_id);
      wait_finished(s);
      return false;
    }
  }
  return true;
}

void answer_whole(const std::shared_ptr<RequestState>& state, const httplib::Request& req, httplib::Response& res) {
  RequestState& s = *state;
  const bool client_connected = finished_while_client_connected(s, req);
  record_usage(s);
  if (!client_connected) {
    // nginx's "client closed request". Nobody reads it; the metrics count it, and the body keeps
    // the server's error handler (which fills empty error responses) from counting it again.
    write_error(res, ApiError{499, "the client closed the connection before the response", "invalid_request_error",
                              {}, "client_closed_request", {}});
    return;
  }
  const CompletionResult& result = s.channel.result;
  if (result.status != CompletionStatus::kFinished) {
    write_error(res, internal_error(fmt::format("generation failed: {}", result.error)));
    return;
  }
  if (s.annotator) s.annotator->feed(s.channel.full_text);
  ResponseDecoration late;
  const std::string tail = finish_annotation(s, late);
  s.sent_text_bytes = s.lead_text.size();
  json logprobs = take_logprobs(s, s.channel.unsent_logprobs);
  json body =
      completion_body(s.meta, s.lead_text + s.channel.full_text + tail, finish_reason(result.reason), s.usage(), logprobs);
  merge_fields(body, s.early);
  merge_fields(body, late);
  for (const auto& [name, value] : s.early.headers) res.set_header(name, value);
  for (const auto& [name, value] : late.headers) res.set_header(name, value);
  write_json(res, 200, body);
}

// One call of the chunked content provider: waits up to a second for news, writes it. Returns
// false when the client is gone (the caller cancels) and calls sink.done() after [DONE].
bool pump_stream(RequestState& s, httplib::DataSink& sink, bool& first_chunk) {
  std::string text;
  std::vector<LogprobEntry> logprobs;
  bool finished = false;
  {
    std::unique_lock lock(s.channel.mutex);
    s.channel.changed.wait_for(lock, std::chrono::seconds(1),
                               [&] { return s.channel.finished || !s.channel.unsent_text.empty(); });
    text.swap(s.channel.unsent_text);
    logprobs.swap(s.channel.unsent_logprobs);
    finished = s.channel.finished;
  }
  auto send = [&](const std::string& bytes) { return sink.write(bytes.data(), bytes.size()); };
  auto send_chunk = [&](std::string piece, const char* reason, const json& fields) {
    if (first_chunk) piece.insert(0, s.lead_text);  // echoed prompt, annotator's begin()
    json chunk = stream_chunk(s.meta, piece, first_chunk, reason, take_logprobs(s, logprobs), s.request.include_usage);
    for (const auto& [key, value] : fields.items()) chunk[key] = value;
    if (first_chunk) s.sent_text_bytes += s.lead_text.size();
    first_chunk = false;
    s.sent_text_bytes += piece.size();
    return send(sse_event(chunk));
  };
  if (s.annotator && !text.empty()) s.annotator->feed(text);
  if (!text.empty() || (first_chunk && !finished)) {
    if (!text.empty() && !s.first_text_sent) {
      s.first_text_sent = true;
      s.ctx.metrics.observe_time_to_first_token(seconds_since(s.started));
    }
    if (!send_chunk(text, nullptr, first_chunk ? s.early.fields : json::object())) return false;
  } else if (!finished) {
    // Nothing new: a comment line, which clients ignore, tells whether the client is still there.
    return send(": keep-alive\n\n");
  }
  if (!finished) return true;

  record_usage(s);
  const CompletionResult& result = s.channel.result;
  if (result.status != CompletionStatus::kFinished) {
    send(sse_event(internal_error(fmt::format("generation failed: {}", result.error)).to_json()));
    return false;
  }
  ResponseDecoration late;
  const std::string tail = finish_annotation(s, late);
  json end_fields = first_chunk ? s.early.fields : json::object();  // an answer in one chunk
  for (const auto& [key, value] : late.fields.items()) end_fields[key] = value;
  if (!send_chunk(tail, finish_reason(result.reason), end_fields)) return false;
  if (s.request.include_usage && !send(sse_event(usage_chunk(s.meta, s.usage())))) return false;
  if (!send(std::string(kSseDone))) return false;
  sink.done();
  return true;
}

void answer_stream(const std::shared_ptr<RequestState>& state, httplib::Response& res) {
  for (const auto& [name, value] : state->early.headers) res.set_header(name, value);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");  // reverse proxies must not hold chunks back
  auto first_chunk = std::make_shared<bool>(true);
  res.set_chunked_content_provider(
      "text/event-stream",
      [state, first_chunk](std::size_t, httplib::DataSink& sink) {
        if (pump_stream(*state, sink, *first_chunk)) return true;
        state->ctx.service.scheduler().cancel(state->scheduler_id);
        return false;
      },
      [state](bool success) {
        // The response is over, completely sent or not: a request still running is cancelled
        // and its slot freed; its usage is recorded once the scheduler has stopped it.
        if (!success) state->ctx.service.scheduler().cancel(state->scheduler_id);
        wait_finished(*state);
        record_usage(*state);
        const bool completed = success && state->channel.result.status == CompletionStatus::kFinished;
        state->ctx.metrics.count_request(route_label(state->request.route), completed ? 200 : 499,
                                         seconds_since(state->started));
      });
}

}  // namespace

void handle_completion_request(const CompletionContext& ctx, ApiRoute route, const httplib::Request& req,
                               httplib::Response& res) {
  const auto started = Clock::now();
  auto finish_plain = [&](int status) { ctx.metrics.count_request(route_label(route), status, seconds_since(started)); };
  auto refuse = [&](const ApiError& error) {
    write_error(res, error);
    finish_plain(error.status);
  };

  auto admitted = ctx.access.admit(bearer_token(req));
  if (auto* error = std::get_if<ApiError>(&admitted)) return refuse(*error);
  ParseResult parsed = parse_completion_request(route, req.body, ctx.limits);
  if (auto* error = std::get_if<ApiError>(&parsed)) return refuse(*error);
  OpenAiRequest& request = std::get<OpenAiRequest>(parsed);
  auto prepared = ctx.service.prepare(request);
  if (auto* error = std::get_if<ApiError>(&prepared)) return refuse(*error);

  auto state = std::make_shared<RequestState>(ctx);
  state->request = std::move(request);
  state->prepared = std::move(std::get<PreparedRequest>(prepared));
  state->grant = std::move(std::get<AccessGrant>(admitted));
  state->started = started;
  state->meta = {route, new_response_id(route), static_cast<std::int64_t>(std::time(nullptr)), ctx.service.model_id()};
  if (ctx.hooks.annotate) state->annotator = ctx.hooks.annotate(state->request, state->grant);
  if (state->annotator) {
    for (auto& p : state->annotator->logit_processors())
      state->prepared.engine.logit_processors.push_back(std::move(p));
  }
  // The legacy endpoint's echo: the prompt is the start of the text.
  if (state->request.echo) state->lead_text = state->prepared.prompt_text;
  if (state->annotator) state->lead_text += state->annotator->begin(state->early);

  try {
    state->scheduler_id = ctx.service.scheduler().submit(state->prepared.engine, make_callbacks(state));
  } catch (const QueueFull& e) {
    return refuse(overloaded(fmt::format("the server is at capacity ({}); retry shortly", e.what())));
  } catch (const Error& e) {
    return refuse(bad_request(e.what()));
  }
  if (state->request.stream) {
    answer_stream(state, res);
    return;
  }
  answer_whole(state, req, res);
  finish_plain(res.status);
}

}  // namespace autarky::server
