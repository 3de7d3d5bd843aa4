#include "tenants/quota.h"

#include <fmt/format.h>

#include "base/error.h"

namespace autarky::tenants {

namespace {
constexpr auto kRateWindow = std::chrono::seconds(60);
}  // namespace

std::int64_t utc_day(TimePoint t) {
  return std::chrono::floor<std::chrono::days>(t).time_since_epoch().count();
}

std::int64_t utc_month_first_day(TimePoint t) {
  std::chrono::year_month_day date{std::chrono::floor<std::chrono::days>(t)};
  std::chrono::sys_days first{date.year() / date.month() / 1};
  return first.time_since_epoch().count();
}

std::int64_t utc_next_month_first_day(TimePoint t) {
  std::chrono::year_month_day date{std::chrono::floor<std::chrono::days>(t)};
  std::chrono::year_month next = date.year() / date.month() + std::chrono::months(1);
  return std::chrono::sys_days{next / 1}.time_since_epoch().count();
}

TimePoint day_start(std::int64_t day) {
  return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::days(day)));
}

std::int64_t seconds_until(TimePoint now, TimePoint then) {
  if (then <= now) return 1;
  auto seconds = std::chrono::ceil<std::chrono::seconds>(then - now).count();
  return seconds < 1 ? 1 : seconds;
}

const char* rejection_name(Rejection r) {
  switch (r) {
    case Rejection::kNone: return "none";
    case Rejection::kMonthlyTokens: return "monthly_tokens";
    case Rejection::kDailyTokens: return "daily_tokens";
    case Rejection::kRequestsPerMinute: return "requests_per_minute";
    case Rejection::kConcurrency: return "concurrency";
  }
  return "unknown";
}

ConcurrencySlot::ConcurrencySlot(std::shared_ptr<RateState> state, std::string key_id)
    : state_(std::move(state)), key_id_(std::move(key_id)) {}

ConcurrencySlot& ConcurrencySlot::operator=(ConcurrencySlot&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
    key_id_ = std::move(other.key_id_);
  }
  return *this;
}

void ConcurrencySlot::release() {
  if (!state_) return;
  state_->release_slot(key_id_);
  state_.reset();
}

Admission RateState::try_admit(const std::string& key_id, const KeyLimits& limits, TimePoint now) {
  std::lock_guard lock(mutex_);
  PerKey& key = keys_[key_id];
  // Admissions at or before now - 60 s have left the window. A clock that steps backwards only
  // makes the window look fuller for a while; it never admits more than the limit.
  while (!key.recent.empty() && key.recent.front() <= now - kRateWindow) key.recent.pop_front();

  Admission result;
  if (limits.requests_per_minute > 0 && key.recent.size() >= limits.requests_per_minute) {
    // The window holds at least `limit` admissions; the request fits once enough of the oldest
    // have left, i.e. when admission number size-limit (0-based) is 60 s old.
    TimePoint frees_at = key.recent[key.recent.size() - limits.requests_per_minute] + kRateWindow;
    result.rejection = Rejection::kRequestsPerMinute;
    result.retry_after_seconds = seconds_until(now, frees_at);
    result.message = fmt::format("rate limit of {} requests per minute reached", limits.requests_per_minute);
    return result;
  }
  if (limits.max_concurrent > 0 && key.running >= limits.max_concurrent) {
    result.rejection = Rejection::kConcurrency;
    result.retry_after_seconds = 1;
    result.message = fmt::format("{} concurrent requests already running (the key's maximum)", key.running);
    return result;
  }
  key.recent.push_back(now);
  // Only the last `limit` admissions matter for the next decision; without a limit none do.
  while (key.recent.size() > limits.requests_per_minute) key.recent.pop_front();
  ++key.running;
  result.slot = ConcurrencySlot(shared_from_this(), key_id);
  return result;
}

std::uint64_t RateState::running(const std::string& key_id) {
  std::lock_guard lock(mutex_);
  auto it = keys_.find(key_id);
  return it == keys_.end() ? 0 : it->second.running;
}

void RateState::release_slot(const std::string& key_id) {
  std::lock_guard lock(mutex_);
  auto it = keys_.find(key_id);
  AUTARKY_ASSERT(it != keys_.end() && it->second.running > 0, "released a slot of key {} that holds none", key_id);
  --it->second.running;
}

}  // namespace autarky::tenants
