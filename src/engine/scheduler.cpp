#include "engine/scheduler.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_set>

#include "base/log.h"
#include "engine/active_request.h"
#include "engine/batch_step.h"

namespace autarky {
namespace {

using Clock = ActiveRequest::Clock;

struct QueuedRequest {
  RequestId id;
  CompletionRequest request;
  CompletionCallbacks callbacks;
  Sampler sampler;
  Clock::time_point submitted;
};

// on_finish for a request that never got a slot.
void report_unstarted(QueuedRequest& q, CompletionStatus status, std::string error) {
  if (!q.callbacks.on_finish) return;
  CompletionResult r;
  r.status = status;
  r.error = std::move(error);
  r.prompt_tokens = static_cast<std::int64_t>(q.request.prompt.size());
  r.queue_seconds = std::chrono::duration<double>(Clock::now() - q.submitted).count();
  try {
    q.callbacks.on_finish(r);
  } catch (const std::exception& e) {
    AUTARKY_LOG_WARN("request {}: on_finish threw: {}", q.id, e.what());
  }
}

std::int64_t resolve_slot_context(const ModelConfig& c, std::int64_t n_ctx) {
  if (n_ctx < 0) fail("scheduler: context per slot {} must not be negative", n_ctx);
  if (n_ctx == 0) return c.n_ctx_train;
  if (n_ctx > c.n_ctx_train) {
    fail("scheduler: context per slot {} exceeds the model's training context {} ({}.context_length)", n_ctx,
         c.n_ctx_train, c.arch_name);
  }
  return n_ctx;
}

}  // namespace

struct Scheduler::State {
  State(const Model& m, const text::Tokenizer& t, ThreadPool& p, const SchedulerOptions& o)
      : model(m), tokenizer(t), pool(p), options(o), stepper(m, p) {}

  void loop();
  // Takes cancellations and admits queued requests into free slots; false when stopping.
  bool wait_and_admit();
  void retire_finished();
  void shut_down();

  const Model& model;
  const text::Tokenizer& tokenizer;
  ThreadPool& pool;
  SchedulerOptions options;

  // Shared with submit() / cancel() / stats(), guarded by mutex.
  mutable std::mutex mutex;
  std::condition_variable wake;
  std::deque<QueuedRequest> queue;
  std::unordered_set<RequestId> live;     // submitted and not yet reported
  std::unordered_set<RequestId> cancels;  // asked for, not yet applied
  bool stopping = false;
  RequestId next_id = 1;
  SchedulerStats stats;

  // Loop thread only.
  std::vector<std::unique_ptr<KvCache>> caches;       // [n_slots], allocated on first use
  std::vector<int> free_slots;                        // indices into caches
  std::vector<std::unique_ptr<ActiveRequest>> active; // in admission order
  std::vector<int> active_slot;                       // slot of active[i]
  BatchStepper stepper;

  std::thread thread;
};

Scheduler::Scheduler(const Model& model, const text::Tokenizer& tokenizer, ThreadPool& pool,
                     const SchedulerOptions& options)
    : state_(std::make_unique<State>(model, tokenizer, pool, options)) {
  SchedulerOptions& o = state_->options;
  if (o.n_slots < 1) fail("scheduler: n_slots {} must be at least 1", o.n_slots);
  if (o.max_queued < 0) fail("scheduler: max_queued {} must not be negative", o.max_queued);
  if (o.prefill_chunk < 1) fail("scheduler: prefill_chunk {} must be at least 1", o.prefill_chunk);
  if (tokenizer.n_vocab() != model.config().n_vocab) {
    fail("scheduler: tokenizer has {} tokens but the model's vocabulary has {}", tokenizer.n_vocab(),
         model.config().n_vocab);
  }
  o.n_ctx_per_slot = resolve_slot_context(model.config(), o.n_ctx_per_slot);
  state_->caches.resize(static_cast<std::size_t>(o.n_slots));
  for (int i = o.n_slots - 1; i >= 0; --i) state_->free_slots.push_back(i);
  state_->thread = std::thread([s = state_.get()] { s->loop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  state_->thread.join();
}

RequestId Scheduler::submit(CompletionRequest request, CompletionCallbacks callbacks) {
  State& s = *state_;
  const std::int64_t n_vocab = s.model.config().n_vocab;
  const auto n_prompt = static_cast<std::int64_t>(request.prompt.size());
  if (n_prompt == 0) fail("the prompt is empty");
  for (std::size_t i = 0; i < request.prompt.size(); ++i) {
    const std::int32_t t = request.prompt[i];
    if (t < 0 || t >= n_vocab) fail("prompt token {} at position {} is out of range (vocabulary of {})", t, i, n_vocab);
  }
  if (n_prompt >= s.options.n_ctx_per_slot) {
    fail("the prompt has {} tokens, which leaves no room to generate in a context of {} tokens", n_prompt,
         s.options.n_ctx_per_slot);
  }
  for (std::int32_t t : request.options.end_tokens) {
    if (t < 0 || t >= n_vocab) fail("end token {} is out of range (vocabulary of {})", t, n_vocab);
  }
  Sampler sampler(request.sampling, n_vocab);  // validates the sampling values
  for (auto& processor : request.logit_processors) {
    if (!processor) fail("a logit processor of the request is null");
    sampler.add_processor(processor);
  }
  RequestId id = 0;
  {
    std::lock_guard lock(s.mutex);
    if (s.stopping) fail("the scheduler is shutting down");
    const auto capacity = static_cast<std::size_t>(s.options.n_slots + s.options.max_queued);
    if (s.live.size() >= capacity) {
      throw QueueFull(fmt::format("server busy: {} requests running or queued (limit {})", s.live.size(), capacity));
    }
    id = s.next_id++;
    s.live.insert(id);
    s.queue.push_back({id, std::move(request), std::move(callbacks), std::move(sampler), Clock::now()});
    ++s.stats.submitted;
    s.stats.queued = static_cast<std::int64_t>(s.queue.size());
  }
  s.wake.notify_all();
  return id;
}

void Scheduler::cancel(RequestId id) {
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->live.contains(id)) return;
    state_->cancels.insert(id);
  }
  state_->wake.notify_all();
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard lock(state_->mutex);
  return state_->stats;
}

std::int64_t Scheduler::n_ctx_per_slot() const { return state_->options.n_ctx_per_slot; }
const SchedulerOptions& Scheduler::options() const { return state_->options; }

bool Scheduler::State::wait_and_admit() {
  std::vector<QueuedRequest> admitted, cancelled;
  std::unordered_set<RequestId> cancel_now;
  {
    std::unique_lock lock(mutex);
    wake.wait(lock, [&] { return stopping || !queue.empty() || !active.empty() || !cancels.empty(); });
    if (stopping) return false;
    cancel_now.swap(cancels);
    for (auto it = queue.begin(); it != queue.end();) {
      if (cancel_now.contains(it->id)) {
        cancelled.push_back(std::move(*it));
        it = queue.erase(it);
      } else {
        ++it;
      }
    }
    const std::size_t n_free = free_slots.size();
    while (!queue.empty() && admitted.size() < n_free) {
      admitted.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    stats.queued = static_cast<std::int64_t>(queue.size());
    stats.active = static_cast<std::int64_t>(active.size() + admitted.size());
    stats.cancelled += cancelled.size();  // those still queued; running ones when retired
  }
  for (QueuedRequest& q : cancelled) {
    {
      std::lock_guard lock(mutex);
      live.erase(q.id);
    }
    report_unstarted(q, CompletionStatus::kCancelled, {});
  }
  for (auto& a : active) {
    if (cancel_now.contains(a->id())) a->stop(CompletionStatus::kCancelled);
  }
  for (QueuedRequest& q : admitted) {
    const int slot = free_slots.back();
    free_slots.pop_back();
    auto& cache = caches[static_cast<std::size_t>(slot)];
    if (!cache) {
      const ModelConfig& c = model.config();
      try {
        cache = std::make_unique<KvCache>(
            KvCacheShape{c.n_layer, options.n_ctx_per_slot, c.n_head_kv * c.head_dim_k, c.n_head_kv * c.head_dim_v,
                         c.n_head_kv});
      } catch (const std::bad_alloc&) {  // a slot's cache is allocated on first use; fail the request, not the loop
        free_slots.push_back(slot);
        {
          std::lock_guard lock(mutex);
          live.erase(q.id);
          ++stats.failed;
          --stats.active;
        }
        report_unstarted(q, CompletionStatus::kFailed,
                         fmt::format("out of memory for a KV cache of {} positions", options.n_ctx_per_slot));
        continue;
      }
    }
    active.push_back(std::make_unique<ActiveRequest>(q.id, std::move(q.request), std::move(q.callbacks),
                                                     std::move(q.sampler), tokenizer, *cache, q.submitted));
    active_slot.push_back(slot);
  }
  return true;
}

void Scheduler::State::retire_finished() {
  for (std::size_t i = 0; i < active.size();) {
    ActiveRequest& a = *active[i];
    if (!a.done()) {
      ++i;
      continue;
    }
    {  // stats first, so that whoever on_finish wakes sees them
      std::lock_guard lock(mutex);
      live.erase(a.id());
      switch (a.status()) {
        case CompletionStatus::kFinished: ++stats.finished; break;
        case CompletionStatus::kCancelled: ++stats.cancelled; break;
        case CompletionStatus::kFailed: ++stats.failed; break;
      }
      stats.active = static_cast<std::int64_t>(active.size() - 1);
    }
    a.report();
    free_slots.push_back(active_slot[i]);
    active.erase(active.begin() + static_cast<std::ptrdiff_t>(i));
    active_slot.erase(active_slot.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

void Scheduler::State::loop() {
  while (wait_and_admit()) {
    std::vector<ActiveRequest*> running;
    for (auto& a : active) {
      if (!a->done()) running.push_back(a.get());
    }
    if (!running.empty()) {
      StepSummary summary;
      try {
        summary = stepper.step(running, options.prefill_chunk);
      } catch (const std::exception& e) {
        AUTARKY_LOG_WARN("scheduler: forward pass failed: {}", e.what());
        for (ActiveRequest* a : running) a->stop(CompletionStatus::kFailed, fmt::format("inference failed: {}", e.what()));
      }
      std::lock_guard lock(mutex);
      ++stats.steps;
      stats.last_batch_sequences = summary.sequences;
      stats.last_batch_tokens = summary.tokens;
      stats.prompt_tokens += static_cast<std::uint64_t>(summary.prompt_tokens);
      stats.completion_tokens += static_cast<std::uint64_t>(summary.sampled_tokens);
    }
    retire_finished();
  }
  shut_down();
}

void Scheduler::State::shut_down() {
  std::deque<QueuedRequest> waiting;
  {
    std::lock_guard lock(mutex);
    waiting.swap(queue);
    stats.failed += waiting.size();
    stats.queued = 0;
    for (const QueuedRequest& q : waiting) live.erase(q.id);
  }
  for (auto& a : active) a->stop(CompletionStatus::kFailed, "the scheduler was shut down");
  retire_finished();
  for (QueuedRequest& q : waiting) report_unstarted(q, CompletionStatus::kFailed, "the scheduler was shut down");
}

}  // namespace autarky
