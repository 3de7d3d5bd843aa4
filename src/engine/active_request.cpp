#include "engine/active_request.h"

#include <algorithm>
#include <exception>

#include "base/log.h"

namespace autarky {
namespace {

double seconds_between(ActiveRequest::Clock::time_point a, ActiveRequest::Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

ActiveRequest::ActiveRequest(RequestId id, CompletionRequest request, CompletionCallbacks callbacks, Sampler sampler,
                             const text::Tokenizer& tokenizer, KvCache& cache, Clock::time_point submitted)
    : id_(id),
      request_(std::move(request)),
      callbacks_(std::move(callbacks)),
      sampler_(std::move(sampler)),
      decoder_(tokenizer, request_.strip_leading_space),
      matcher_(request_.options.stop_strings),
      cache_(cache),
      submitted_(submitted),
      admitted_(Clock::now()),
      first_token_(admitted_) {
  result_.prompt_tokens = static_cast<std::int64_t>(request_.prompt.size());
  result_.queue_seconds = seconds_between(submitted_, admitted_);
  // Penalties see the prompt, as in generate().
  for (std::int32_t t : request_.prompt) sampler_.accept(t);
  if (request_.options.max_tokens == 0) finish(StopReason::kMaxTokens);
}

std::span<const std::int32_t> ActiveRequest::next_tokens(std::int64_t max_prompt) const {
  AUTARKY_ASSERT(!done_);
  if (prefilling()) {
    const std::int64_t n = std::clamp<std::int64_t>(max_prompt, 1, prompt_left());
    return std::span<const std::int32_t>(request_.prompt).subspan(static_cast<std::size_t>(n_prompt_done_),
                                                                   static_cast<std::size_t>(n));
  }
  AUTARKY_ASSERT(pending_ >= 0);
  return {&pending_, 1};
}

void ActiveRequest::evaluated(std::int64_t n, std::span<const float> logits) {
  AUTARKY_ASSERT(!done_);
  n_past_ += n;
  if (prefilling()) {
    n_prompt_done_ += n;
    if (prefilling()) return;
    first_token_ = Clock::now();
    result_.prompt_seconds = seconds_between(admitted_, first_token_);
  }
  AUTARKY_ASSERT(!logits.empty(), "request {}: no logits after the prompt or a decoded token", id_);
  sample_next(logits);
}

void ActiveRequest::sample_next(std::span<const float> logits) {
  const std::int32_t next = sampler_.sample(logits);
  const auto& ends = request_.options.end_tokens;
  if (std::find(ends.begin(), ends.end(), next) != ends.end()) return finish(StopReason::kEndToken);
  sampler_.accept(next);
  result_.tokens.push_back(next);
  if (callbacks_.on_token) guarded([&] { callbacks_.on_token(next, logits); });
  if (done_) return;
  StopStringMatcher::Result m = matcher_.feed(decoder_.push(next));
  emit(m.emit);
  if (done_) return;
  if (m.stopped) return finish(StopReason::kStopString);
  const auto n_generated = static_cast<std::int64_t>(result_.tokens.size());
  if (request_.options.max_tokens >= 0 && n_generated >= request_.options.max_tokens) {
    return finish(StopReason::kMaxTokens);
  }
  // The sampled token has no room in the cache; it is still part of the output.
  if (n_past_ >= cache_.n_ctx()) return finish(StopReason::kContextFull);
  pending_ = next;
}

void ActiveRequest::finish(StopReason reason) {
  if (reason != StopReason::kStopString) {
    // Bytes of an unfinished character still pass through the stop-string check.
    StopStringMatcher::Result m = matcher_.feed(decoder_.finish());
    emit(m.emit);
    if (m.stopped) reason = StopReason::kStopString;
    if (!m.stopped) emit(matcher_.flush());
  }
  if (done_) return;  // a callback failed while emitting
  result_.reason = reason;
  result_.status = CompletionStatus::kFinished;
  done_ = true;
}

void ActiveRequest::stop(CompletionStatus status, std::string error) {
  if (done_) return;
  result_.status = status;
  result_.error = std::move(error);
  done_ = true;
}

void ActiveRequest::emit(std::string_view text) {
  if (text.empty() || !callbacks_.on_text || done_) return;
  guarded([&] { callbacks_.on_text(text); });
}

template <typename Fn>
void ActiveRequest::guarded(Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    stop(CompletionStatus::kFailed, fmt::format("request {}: a callback threw: {}", id_, e.what()));
  }
}

void ActiveRequest::report() {
  AUTARKY_ASSERT(done_ && !reported_);
  reported_ = true;
  result_.completion_tokens = static_cast<std::int64_t>(result_.tokens.size());
  if (n_prompt_done_ > 0 && !prefilling()) {  // the first token was sampled
    result_.generate_seconds = seconds_between(first_token_, Clock::now());
  }
  if (!callbacks_.on_finish) return;
  try {
    callbacks_.on_finish(result_);
  } catch (const std::exception& e) {
    AUTARKY_LOG_WARN("request {}: on_finish threw: {}", id_, e.what());
  }
}

}  // namespace autarky
