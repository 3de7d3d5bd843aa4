#include "engine/generate.h"

#include <algorithm>
#include <chrono>

#include "base/error.h"
#include "engine/stop_strings.h"

namespace autarky {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kMaxTokens: return "max tokens";
    case StopReason::kEndToken: return "end token";
    case StopReason::kStopString: return "stop string";
    case StopReason::kContextFull: return "context full";
  }
  return "?";
}

GenerateResult generate(Session& session, Sampler& sampler, std::span<const std::int32_t> prompt,
                        const GenerateOptions& options, const TokenTextFn& token_text, const TextSink& on_text) {
  GenerateResult result;
  if (prompt.empty() && session.n_past() == 0) fail("cannot generate from an empty prompt");
  if (!options.stop_strings.empty() && !token_text) fail("stop strings need token text");
  result.prompt_tokens = static_cast<std::int64_t>(prompt.size());

  auto t0 = std::chrono::steady_clock::now();
  std::vector<float> logits;  // [n_vocab] next-token logits
  if (!prompt.empty()) {
    auto l = session.prefill(prompt);
    logits.assign(l.begin(), l.end());
    for (std::int32_t t : prompt) sampler.accept(t);
  } else {
    // Continue after existing history: re-evaluate its last token to get fresh logits.
    const std::int32_t last = session.history().back();
    session.truncate(session.n_past() - 1);
    auto l = session.decode(last);
    logits.assign(l.begin(), l.end());
  }
  result.prompt_seconds = seconds_since(t0);

  StopStringMatcher matcher(options.stop_strings);
  auto emit = [&](std::string_view text) {
    if (!text.empty() && on_text) on_text(text);
  };
  t0 = std::chrono::steady_clock::now();
  auto reached_max = [&] {
    return options.max_tokens >= 0 && static_cast<std::int64_t>(result.tokens.size()) >= options.max_tokens;
  };
  while (!reached_max()) {
    const std::int32_t next = sampler.sample(logits);
    if (std::find(options.end_tokens.begin(), options.end_tokens.end(), next) != options.end_tokens.end()) {
      result.reason = StopReason::kEndToken;
      break;
    }
    sampler.accept(next);
    result.tokens.push_back(next);
    if (token_text) {
      StopStringMatcher::Result m = matcher.feed(token_text(next));
      emit(m.emit);
      if (m.stopped) {
        result.reason = StopReason::kStopString;
        break;
      }
    }
    // The last token is not evaluated: nothing would read its logits.
    if (reached_max()) break;
    if (session.n_past() >= session.n_ctx()) {
      // The sampled token has no room in the cache; it is still part of the output.
      result.reason = StopReason::kContextFull;
      break;
    }
    auto l = session.decode(next);
    logits.assign(l.begin(), l.end());
  }
  if (result.reason != StopReason::kStopString) emit(matcher.flush());
  result.generate_seconds = seconds_since(t0);
  return result;
}

}  // namespace autarky
