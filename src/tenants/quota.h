#pragma once
// The quota rules, apart from storage: UTC calendar boundaries for the token budgets, and the
// in-memory per-key state for requests-per-minute and concurrency. The Ledger (tenants/ledger.h)
// combines these with the token totals it reads from SQLite.
//
// Why rpm and concurrency live in memory: they describe the traffic of this one server process
// in the last minute, not billable facts; persisting every admission would put an fsync in front
// of every request. A restart therefore forgets the last minute's admissions (at most one extra
// minute's worth of requests), while token usage, which is billed, is always read from the ledger.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace autarky::tenants {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// Limits of one key; 0 means unlimited for every field.
struct KeyLimits {
  std::uint64_t tokens_per_day = 0;    // prompt + completion tokens per UTC calendar day
  std::uint64_t tokens_per_month = 0;  // prompt + completion tokens per UTC calendar month
  std::uint64_t requests_per_minute = 0;  // admissions in any sliding 60 s window
  std::uint64_t max_concurrent = 0;       // admissions holding a slot at the same time
};

// UTC calendar arithmetic. Days are counted from 1970-01-01 (day 0), as SQLite stores them.
std::int64_t utc_day(TimePoint t);
std::int64_t utc_month_first_day(TimePoint t);  // the day number of the 1st of t's month
std::int64_t utc_next_month_first_day(TimePoint t);
// Whole seconds from `now` until `then`, rounded up, at least 1 (a Retry-After of 0 invites a
// client to hammer the server).
std::int64_t seconds_until(TimePoint now, TimePoint then);
TimePoint day_start(std::int64_t day);

enum class Rejection {
  kNone,
  kMonthlyTokens,      // tokens_per_month used up: retry at the next UTC month
  kDailyTokens,        // tokens_per_day used up: retry at the next UTC midnight
  kRequestsPerMinute,  // retry when the oldest admission leaves the 60 s window
  kConcurrency,        // max_concurrent requests running: retry in ~1 s
};
const char* rejection_name(Rejection r);  // "daily_tokens", ... (stable, for logs and metrics)

class RateState;

// Holds one concurrency slot of a key while alive; move-only. Released by the destructor or by
// release(). Safe to outlive the Ledger that issued it (the state is shared-owned).
class ConcurrencySlot {
 public:
  ConcurrencySlot() = default;
  ConcurrencySlot(std::shared_ptr<RateState> state, std::string key_id);
  ConcurrencySlot(ConcurrencySlot&& other) noexcept = default;
  ConcurrencySlot& operator=(ConcurrencySlot&& other) noexcept;
  ConcurrencySlot(const ConcurrencySlot&) = delete;
  ConcurrencySlot& operator=(const ConcurrencySlot&) = delete;
  ~ConcurrencySlot() { release(); }
  void release();
  bool held() const { return state_ != nullptr; }

 private:
  std::shared_ptr<RateState> state_;
  std::string key_id_;
};

// What admit() decided. When admitted, `slot` holds the key's concurrency slot until the
// Admission (or the slot moved out of it) is destroyed: keep it alive for the whole request,
// including a streamed response.
struct Admission {
  Rejection rejection = Rejection::kNone;
  std::int64_t retry_after_seconds = 0;  // > 0 exactly when rejected; send as Retry-After
  std::string message;                   // for the error body, e.g. "daily token budget ..."
  ConcurrencySlot slot;

  bool admitted() const { return rejection == Rejection::kNone; }
};

// Per-key admissions of the last minute and running requests; thread-safe.
class RateState : public std::enable_shared_from_this<RateState> {
 public:
  // Checks rpm then concurrency for `key_id`; on success records the admission at `now` and
  // takes a slot. Rejections change nothing.
  Admission try_admit(const std::string& key_id, const KeyLimits& limits, TimePoint now);
  std::uint64_t running(const std::string& key_id);

 private:
  friend class ConcurrencySlot;
  void release_slot(const std::string& key_id);

  struct PerKey {
    std::deque<TimePoint> recent;  // admission times inside the last 60 s, oldest first
    std::uint64_t running = 0;
  };
  std::mutex mutex_;
  std::map<std::string, PerKey> keys_;
};

}  // namespace autarky::tenants
