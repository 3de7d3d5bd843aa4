// The continuous-batching scheduler: requests run together give the same tokens and text as each
// run alone through generate() on a Session (greedy and seeded sampling, chunked prefill,
// requests joining and leaving mid-way), and the request life cycle: cancellation (queued and
// running), a full queue, requests that can never run, destruction with work pending.

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

#include "engine/generate.h"
#include "engine/scheduler.h"
#include "test_support.h"
#include "text/streaming_decoder.h"

namespace autarky {
namespace {

// What the callbacks of one request saw.
struct Outcome {
  std::string text;
  std::vector<std::int32_t> streamed_tokens;
  std::optional<CompletionResult> result;
  int finish_calls = 0;
};

// Collects the outcomes of several requests and lets the test wait for all of them.
class Collector {
 public:
  CompletionCallbacks callbacks(int key, std::function<void(int n_tokens)> on_token_extra = nullptr) {
    CompletionCallbacks cb;
    cb.on_text = [this, key](std::string_view t) {
      std::lock_guard lock(mutex_);
      outcomes_[key].text += t;
    };
    cb.on_token = [this, key, extra = std::move(on_token_extra)](std::int32_t id, std::span<const float> logits) {
      int n = 0;
      {
        std::lock_guard lock(mutex_);
        EXPECT_FALSE(logits.empty());
        outcomes_[key].streamed_tokens.push_back(id);
        n = static_cast<int>(outcomes_[key].streamed_tokens.size());
      }
      if (extra) extra(n);
    };
    cb.on_finish = [this, key](const CompletionResult& r) {
      std::lock_guard lock(mutex_);
      outcomes_[key].result = r;
      ++outcomes_[key].finish_calls;
      ++finished_;
      cv_.notify_all();
    };
    return cb;
  }
  void wait_for(int n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return finished_ >= n; });
  }
  Outcome get(int key) {
    std::lock_guard lock(mutex_);
    return outcomes_[key];
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<int, Outcome> outcomes_;
  int finished_ = 0;
};

class SchedulerOnStories : public ::testing::Test {
 protected:
  SchedulerOnStories()
      : model_(Model::load(test::bundled_model().string())), tokenizer_(text::Tokenizer::from_gguf(model_.file())), pool_(2) {}

  // The reference: the request alone through generate() on its own Session and pool.
  std::pair<GenerateResult, std::string> run_alone(const CompletionRequest& r, std::int64_t n_ctx) {
    ThreadPool pool(1);
    Session session(model_, pool, n_ctx);
    Sampler sampler(r.sampling, model_.config().n_vocab);
    for (const auto& p : r.logit_processors) sampler.add_processor(p);
    text::StreamingDecoder decoder(*tokenizer_, r.strip_leading_space);
    std::string text;
    GenerateResult g = generate(
        session, sampler, r.prompt, r.options, [&](std::int32_t id) { return decoder.push(id); },
        [&](std::string_view t) { text += t; });
    if (g.reason != StopReason::kStopString) text += decoder.finish();
    return {g, text};
  }

  CompletionRequest request(std::string_view prompt, std::int64_t max_tokens, float temperature = 0.0f,
                            std::uint64_t seed = 0) {
    CompletionRequest r;
    r.prompt = tokenizer_->encode(prompt, true, false);
    r.sampling.temperature = temperature;
    r.sampling.seed = seed;
    r.options.max_tokens = max_tokens;
    return r;
  }

  Model model_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
  ThreadPool pool_;
};

void expect_same_as_alone(const Outcome& got, const GenerateResult& want, const std::string& want_text) {
  ASSERT_TRUE(got.result.has_value());
  EXPECT_EQ(got.finish_calls, 1);
  EXPECT_EQ(got.result->status, CompletionStatus::kFinished) << got.result->error;
  EXPECT_EQ(got.result->tokens, want.tokens);
  EXPECT_EQ(got.streamed_tokens, want.tokens);
  EXPECT_EQ(got.result->reason, want.reason);
  EXPECT_EQ(got.result->prompt_tokens, want.prompt_tokens);
  EXPECT_EQ(got.result->completion_tokens, static_cast<std::int64_t>(want.tokens.size()));
  EXPECT_EQ(got.text, want_text);
}

TEST_F(SchedulerOnStories, ConcurrentRequestsMatchEachRunAlone) {
  // More requests than slots, different prompt lengths and limits: requests leave the batch at
  // different steps and queued ones join while others are mid-generation. A prefill chunk of 3
  // splits every prompt over several steps, interleaved with the decodes.
  const std::int64_t n_ctx = 96;
  std::vector<CompletionRequest> requests = {
      request("Once upon a time, there was a little girl", 40),
      request("The cat", 7),
      request("Tom and his mom went to the park to play with a big red ball", 25, 0.8f, 1234),
      request("One day", -1),  // until the context is full
      request("Lily wanted to", 12, 1.1f, 99),
      request("The sun was", 30),
  };
  requests[1].options.stop_strings = {"."};
  Collector c;
  std::atomic<std::int64_t> widest_batch = 0;
  {
    Scheduler sched(model_, *tokenizer_, pool_, {.n_slots = 3, .n_ctx_per_slot = n_ctx, .max_queued = 8, .prefill_chunk = 3});
    for (std::size_t i = 0; i < requests.size(); ++i) {
      sched.submit(requests[i], c.callbacks(static_cast<int>(i), [&](int) {
        const std::int64_t seqs = sched.stats().last_batch_sequences;
        std::int64_t seen = widest_batch.load();
        while (seqs > seen && !widest_batch.compare_exchange_weak(seen, seqs)) {
        }
      }));
    }
    c.wait_for(static_cast<int>(requests.size()));
    SchedulerStats st = sched.stats();
    EXPECT_EQ(st.finished, requests.size());
    EXPECT_EQ(st.active, 0);
    EXPECT_EQ(st.queued, 0);
  }
  EXPECT_EQ(widest_batch.load(), 3);  // the slots really ran together
  for (std::size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(i);
    auto [want, want_text] = run_alone(requests[i], n_ctx);
    expect_same_as_alone(c.get(static_cast<int>(i)), want, want_text);
  }
  EXPECT_EQ(c.get(3).result->reason, StopReason::kContextFull);
}

TEST_F(SchedulerOnStories, StopStringsAndEndTokensEndRequests) {
  const std::int64_t n_ctx = 64;
  CompletionRequest probe = request("Once upon a time", 12);
  auto [full, full_text] = run_alone(probe, n_ctx);
  ASSERT_EQ(full.tokens.size(), 12u);

  CompletionRequest by_stop = probe;  // stop at the text of the 5th token
  by_stop.options.stop_strings = {tokenizer_->token_to_piece(full.tokens[4])};
  CompletionRequest by_end = probe;  // the 3rd token is declared an end token
  by_end.options.end_tokens = {full.tokens[2]};

  Collector c;
  {
    Scheduler sched(model_, *tokenizer_, pool_, {.n_slots = 2, .n_ctx_per_slot = n_ctx});
    sched.submit(by_stop, c.callbacks(0));
    sched.submit(by_end, c.callbacks(1));
    c.wait_for(2);
  }
  auto [want_stop, want_stop_text] = run_alone(by_stop, n_ctx);
  auto [want_end, want_end_text] = run_alone(by_end, n_ctx);
  EXPECT_EQ(want_stop.reason, StopReason::kStopString);
  EXPECT_EQ(want_end.reason, StopReason::kEndToken);
  expect_same_as_alone(c.get(0), want_stop, want_stop_text);
  expect_same_as_alone(c.get(1), want_end, want_end_text);
  EXPECT_EQ(c.get(1).result->tokens.size(), 2u);
  EXPECT_TRUE(full_text.starts_with(c.get(0).text));
}

TEST_F(SchedulerOnStories, LongPromptIsPrefilledInChunksBetweenDecodes) {
  // Request 0 decodes while request 1's 200-token prompt is prefilled 8 tokens per step: request
  // 0 gets a token at every one of those steps, and no step exceeds its decode + 8 prompt tokens.
  Collector c;
  std::atomic<bool> long_submitted = false, long_started = false;
  std::atomic<int> decoded_meanwhile = 0;
  std::atomic<std::int64_t> widest_step = 0;
  std::mutex m;
  std::condition_variable cv;
  bool decoding = false;
  {
    Scheduler sched(model_, *tokenizer_, pool_, {.n_slots = 2, .n_ctx_per_slot = 320, .prefill_chunk = 8});
    sched.submit(request("Once upon a time", 100), c.callbacks(0, [&](int) {
      if (long_submitted && !long_started) ++decoded_meanwhile;
      widest_step = std::max(widest_step.load(), sched.stats().last_batch_tokens);
      std::lock_guard lock(m);
      decoding = true;
      cv.notify_all();
    }));
    {
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return decoding; });
    }
    CompletionRequest long_prompt = request("x", 2);
    long_prompt.prompt.resize(200);
    for (std::size_t i = 1; i < long_prompt.prompt.size(); ++i) long_prompt.prompt[i] = static_cast<std::int32_t>(100 + i);
    long_submitted = true;
    sched.submit(long_prompt, c.callbacks(1, [&](int) {
      long_started = true;
      widest_step = std::max(widest_step.load(), sched.stats().last_batch_tokens);
    }));
    c.wait_for(2);
  }
  EXPECT_EQ(c.get(0).result->completion_tokens, 100);
  EXPECT_EQ(c.get(1).result->completion_tokens, 2);
  EXPECT_GE(decoded_meanwhile.load(), 200 / 8 - 1);
  EXPECT_LE(widest_step.load(), 1 + 8);
}

// Pushes up a token chosen from the context, so that the output visibly depends on it.
class ContextBias : public LogitProcessor {
 public:
  void apply(std::span<float> logits, std::span<const std::int32_t> context) const override {
    logits[(context.size() * 7 + static_cast<std::size_t>(context.back())) % logits.size()] += 8.0f;
  }
};

TEST_F(SchedulerOnStories, LogitProcessorsApplyPerRequest) {
  const std::int64_t n_ctx = 64;
  CompletionRequest plain = request("Once upon a time", 10);
  CompletionRequest biased = plain;
  biased.logit_processors.push_back(std::make_shared<ContextBias>());
  Collector c;
  {
    Scheduler sched(model_, *tokenizer_, pool_, {.n_slots = 2, .n_ctx_per_slot = n_ctx});
    sched.submit(plain, c.callbacks(0));
    sched.submit(biased, c.callbacks(1));
    c.wait_for(2);
  }
  auto [want_plain, plain_text] = run_alone(plain, n_ctx);
  auto [want_biased, biased_text] = run_alone(biased, n_ctx);
  EXPECT_NE(want_plain.tokens, want_biased.tokens);  // the processor matters
  expect_same_as_alone(c.get(0), want_plain, plain_text);
  expect_same_as_alone(c.get(1), want_biased, biased_text);
}

TEST_F(SchedulerOnStories, CancelStopsRunningAndQueuedRequests) {
  Collector c;
  std::mutex m;
  std::condition_variable cv;
  int running_tokens = 0;
  {
    Scheduler sched(model_, *tokenizer_, pool_, {.n_slots = 1, .n_ctx_per_slot = 256, .max_queued = 4});
    const RequestId running = sched.submit(request("Once upon a time", -1), c.callbacks(0, [&](int n) {
      std::lock_guard lock(m);
      running_tokens = n;
      cv.notify_all();
    }));
    const RequestId queued = sched.submit(request("The dog", 5), c.callbacks(1));
    const RequestId after = sched.submit(request("The dog", 5), c.callbacks(2));
    {
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return running_tokens >= 3; });
    }
    sched.cancel(queued);
    sched.cancel(running);
    c.wait_for(3);
    sched.cancel(after);   // finished: ignored
    sched.cancel(999999);  // unknown: ignored
    SchedulerStats st = sched.stats();
    EXPECT_EQ(st.cancelled, 2u);
    EXPECT_EQ(st.finished, 1u);
  }
  Outcome run = c.get(0), q = c.get(1), last = c.get(2);
  EXPECT_EQ(run.result->status, CompletionStatus::kCancelled);
  EXPECT_GE(run.result->completion_tokens, 3);
  EXPECT_LT(run.result->completion_tokens, 256 - 5);  // did not run to the end of the context
  EXPECT_EQ(q.result->status, CompletionStatus::kCancelled);
  EXPECT_EQ(q.result->completion_tokens, 0);
  EXPECT_TRUE(q.streamed_tokens.empty());
  EXPECT_EQ(last.result->status, CompletionStatus::kFinished);  // took the freed slot
  EXPECT_EQ(last.result->completion_tokens, 5);
  for (const Outcome* o : {&run, &q, &last}) EXPECT_EQ(o->finish_calls, 1);
}

TEST_F(SchedulerOnStories, FullQueueAndImpossibleRequestsAreRejectedAtSubmit) {
  Collector c;
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  {
    Scheduler sched(model_, *tokenizer_, pool_, {.n_slots = 1, .n_ctx_per_slot = 32, .max_queued = 1});
    // Holds the only slot until released, so the queue state below is certain.
    const RequestId holder = sched.submit(request("Once upon a time", -1), c.callbacks(0, [&](int) {
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return release; });
    }));
    sched.submit(request("The cat", 3), c.callbacks(1));
    EXPECT_THROW(sched.submit(request("The dog", 3), c.callbacks(2)), QueueFull);

    CompletionRequest too_long = request("x", 3);
    too_long.prompt.assign(32, too_long.prompt.back());  // fills the slot's whole context
    EXPECT_THROW(sched.submit(too_long, c.callbacks(3)), Error);
    CompletionRequest empty = request("x", 3);
    empty.prompt.clear();
    EXPECT_THROW(sched.submit(empty, c.callbacks(4)), Error);
    CompletionRequest bad_id = request("x", 3);
    bad_id.prompt.push_back(static_cast<std::int32_t>(model_.config().n_vocab));
    EXPECT_THROW(sched.submit(bad_id, c.callbacks(5)), Error);
    CompletionRequest bad_sampling = request("x", 3);
    bad_sampling.sampling.top_p = -1.0f;
    EXPECT_THROW(sched.submit(bad_sampling, c.callbacks(6)), Error);
    try {
      sched.submit(too_long, c.callbacks(3));
    } catch (const QueueFull&) {
      ADD_FAILURE() << "a request that can never run is not a full queue";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("32"), std::string::npos) << e.what();
    }
    sched.cancel(holder);
    {
      std::lock_guard lock(m);
      release = true;
    }
    cv.notify_all();
    c.wait_for(2);
    EXPECT_EQ(sched.stats().submitted, 2u);
  }
  EXPECT_EQ(c.get(0).result->status, CompletionStatus::kCancelled);
  EXPECT_EQ(c.get(1).result->status, CompletionStatus::kFinished);
  EXPECT_FALSE(c.get(2).result.has_value());  // rejected requests never call back
}

TEST_F(SchedulerOnStories, DestructionFinishesPendingRequestsWithAnError) {
  Collector c;
  std::mutex m;
  std::condition_variable cv;
  bool started = false, release = false;
  {
    Scheduler sched(model_, *tokenizer_, pool_, {.n_slots = 1, .n_ctx_per_slot = 256, .max_queued = 4});
    sched.submit(request("Once upon a time", -1), c.callbacks(0, [&](int n) {
      std::unique_lock lock(m);
      if (n == 1) {
        started = true;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
      }
    }));
    sched.submit(request("The cat", 3), c.callbacks(1));
    sched.submit(request("The dog", 3), c.callbacks(2));
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return started; });
    release = true;
    cv.notify_all();
  }  // destroyed while request 0 runs and 1, 2 wait
  for (int k = 0; k < 3; ++k) {
    SCOPED_TRACE(k);
    Outcome o = c.get(k);
    ASSERT_TRUE(o.result.has_value());
    EXPECT_EQ(o.finish_calls, 1);
    EXPECT_EQ(o.result->status, CompletionStatus::kFailed);
    EXPECT_FALSE(o.result->error.empty());
  }
  EXPECT_EQ(c.get(1).result->completion_tokens, 0);
}

TEST_F(SchedulerOnStories, RejectsBadOptions) {
  EXPECT_THROW(Scheduler(model_, *tokenizer_, pool_, {.n_slots = 0}), Error);
  EXPECT_THROW(Scheduler(model_, *tokenizer_, pool_, {.prefill_chunk = 0}), Error);
  EXPECT_THROW(Scheduler(model_, *tokenizer_, pool_, {.n_ctx_per_slot = model_.config().n_ctx_train + 1}), Error);
}

}  // namespace
}  // namespace autarky
