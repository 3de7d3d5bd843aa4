// Every quota rule against a clock the test controls: UTC day and month budgets and their
// boundaries, the sliding rpm window, concurrency slots.

#include <chrono>

#include "tenants/ledger.h"
#include "test_support.h"

namespace autarky::tenants {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

TimePoint at(year_month_day date, Clock::duration time_of_day = {}) { return TimePoint(sys_days(date)) + time_of_day; }

struct Fixture {
  test::TempDir dir;
  Ledger ledger{(dir / "ledger.db").string(), OpenMode::kCreateIfMissing};
  KeyInfo make_key(KeyLimits limits) { return ledger.create_key("tenant", limits, Clock::now()).key; }
  int next_request = 0;
  void spend(const KeyInfo& key, std::uint64_t prompt, std::uint64_t completion, TimePoint t) {
    ASSERT_TRUE(ledger.record_usage({key.id, "req-" + std::to_string(next_request++), prompt, completion, t}));
  }
};

TEST(UtcCalendar, DaysAndMonthBoundaries) {
  EXPECT_EQ(utc_day(at(1970y / January / 1)), 0);
  EXPECT_EQ(utc_day(at(1970y / January / 2) - 1ms), 0);
  EXPECT_EQ(utc_day(at(1970y / January / 2)), 1);
  TimePoint leap = at(2028y / February / 29, 23h + 59min);
  EXPECT_EQ(day_start(utc_month_first_day(leap)), at(2028y / February / 1));
  EXPECT_EQ(day_start(utc_next_month_first_day(leap)), at(2028y / March / 1));
  TimePoint new_year_eve = at(2026y / December / 31, 12h);
  EXPECT_EQ(day_start(utc_next_month_first_day(new_year_eve)), at(2027y / January / 1));
  EXPECT_EQ(day_start(utc_month_first_day(at(2027y / January / 1))), at(2027y / January / 1));

  TimePoint t = at(2026y / May / 5);
  EXPECT_EQ(seconds_until(t, t + 300ms), 1);   // rounded up
  EXPECT_EQ(seconds_until(t, t + 1200ms), 2);  // rounded up
  EXPECT_EQ(seconds_until(t, t + 60s), 60);
  EXPECT_EQ(seconds_until(t, t - 5s), 1);  // never 0 or negative
}

TEST(Quota, DailyBudgetRefusesUntilNextUtcMidnight) {
  Fixture f;
  KeyInfo key = f.make_key({.tokens_per_day = 100});
  TimePoint morning = at(2026y / March / 15, 10h);
  EXPECT_TRUE(f.ledger.admit(key, morning).admitted());
  f.spend(key, 30, 30, morning);
  EXPECT_TRUE(f.ledger.admit(key, morning + 1min).admitted());  // 60 < 100
  f.spend(key, 20, 19, morning + 2min);
  EXPECT_TRUE(f.ledger.admit(key, morning + 3min).admitted());  // 99 < 100
  f.spend(key, 1, 0, morning + 4min);

  Admission refused = f.ledger.admit(key, morning + 5min);  // 100 used
  EXPECT_FALSE(refused.admitted());
  EXPECT_EQ(refused.rejection, Rejection::kDailyTokens);
  EXPECT_FALSE(refused.slot.held());
  TimePoint midnight = at(2026y / March / 16);
  EXPECT_EQ(refused.retry_after_seconds, duration_cast<seconds>(midnight - (morning + 5min)).count());
  EXPECT_NE(refused.message.find("daily"), std::string::npos);

  Admission last_second = f.ledger.admit(key, midnight - 500ms);
  EXPECT_EQ(last_second.rejection, Rejection::kDailyTokens);
  EXPECT_EQ(last_second.retry_after_seconds, 1);
  EXPECT_TRUE(f.ledger.admit(key, midnight).admitted());
}

TEST(Quota, MonthlyBudgetCountsTheWholeCalendarMonthOnly) {
  Fixture f;
  KeyInfo key = f.make_key({.tokens_per_month = 1000});
  f.spend(key, 900, 0, at(2026y / December / 28));  // last month: does not count in January
  f.spend(key, 300, 100, at(2027y / January / 2, 8h));
  f.spend(key, 500, 0, at(2027y / January / 20, 23h));
  EXPECT_TRUE(f.ledger.admit(key, at(2027y / January / 21)).admitted());  // 900 < 1000
  f.spend(key, 50, 50, at(2027y / January / 21));

  TimePoint late = at(2027y / January / 31, 22h);
  Admission refused = f.ledger.admit(key, late);
  EXPECT_EQ(refused.rejection, Rejection::kMonthlyTokens);
  EXPECT_EQ(refused.retry_after_seconds, 2 * 3600);
  EXPECT_NE(refused.message.find("monthly"), std::string::npos);
  EXPECT_TRUE(f.ledger.admit(key, at(2027y / February / 1)).admitted());

  // A year boundary: December's budget refills on January 1st.
  f.spend(key, 1000, 0, at(2027y / December / 3));
  Admission december = f.ledger.admit(key, at(2027y / December / 31, 23h + 59min + 59s));
  EXPECT_EQ(december.rejection, Rejection::kMonthlyTokens);
  EXPECT_EQ(december.retry_after_seconds, 1);
  EXPECT_TRUE(f.ledger.admit(key, at(2028y / January / 1)).admitted());
}

TEST(Quota, MonthlyRefusalWinsOverDailyBecauseItLastsLonger) {
  Fixture f;
  KeyInfo key = f.make_key({.tokens_per_day = 50, .tokens_per_month = 50});
  TimePoint t = at(2026y / June / 10, 12h);
  f.spend(key, 50, 0, t);
  Admission refused = f.ledger.admit(key, t + 1h);
  EXPECT_EQ(refused.rejection, Rejection::kMonthlyTokens);
  EXPECT_EQ(refused.retry_after_seconds, duration_cast<seconds>(at(2026y / July / 1) - (t + 1h)).count());
  // The next day the daily budget is fresh but the month is still spent.
  EXPECT_EQ(f.ledger.admit(key, at(2026y / June / 11)).rejection, Rejection::kMonthlyTokens);
}

TEST(Quota, RequestsPerMinuteSlidingWindow) {
  Fixture f;
  KeyInfo key = f.make_key({.requests_per_minute = 3});
  TimePoint t = at(2026y / April / 1, 9h);
  for (auto offset : {0s, 10s, 20s}) EXPECT_TRUE(f.ledger.admit(key, t + offset).admitted());  // slots released at once

  Admission refused = f.ledger.admit(key, t + 30s);
  EXPECT_EQ(refused.rejection, Rejection::kRequestsPerMinute);
  EXPECT_EQ(refused.retry_after_seconds, 30);  // the admission at t leaves the window at t + 60 s
  EXPECT_EQ(f.ledger.admit(key, t + 59s + 500ms).retry_after_seconds, 1);
  // Refusals are not admissions: they did not push the window forward.
  EXPECT_TRUE(f.ledger.admit(key, t + 60s).admitted());
  Admission next = f.ledger.admit(key, t + 61s);  // window (t+1 s, t+61 s] holds t+10, t+20, t+60
  EXPECT_EQ(next.rejection, Rejection::kRequestsPerMinute);
  EXPECT_EQ(next.retry_after_seconds, 9);
  EXPECT_TRUE(f.ledger.admit(key, t + 70s).admitted());

  // Keys do not share a window.
  KeyInfo other = f.make_key({.requests_per_minute = 1});
  EXPECT_TRUE(f.ledger.admit(other, t + 70s).admitted());
  EXPECT_FALSE(f.ledger.admit(other, t + 71s).admitted());
}

TEST(Quota, ConcurrencySlotsAreHeldUntilTheAdmissionEnds) {
  auto f = std::make_unique<Fixture>();
  KeyInfo key = f->make_key({.max_concurrent = 2});
  TimePoint t = at(2026y / April / 1, 9h);
  Admission first = f->ledger.admit(key, t);
  std::optional<Admission> second = f->ledger.admit(key, t);
  ASSERT_TRUE(first.admitted() && second->admitted());
  EXPECT_TRUE(first.slot.held());
  EXPECT_EQ(f->ledger.running(key.id), 2u);

  Admission third = f->ledger.admit(key, t + 1s);
  EXPECT_EQ(third.rejection, Rejection::kConcurrency);
  EXPECT_EQ(third.retry_after_seconds, 1);
  EXPECT_EQ(f->ledger.running(key.id), 2u);  // a refusal takes no slot

  second.reset();  // request ended
  EXPECT_EQ(f->ledger.running(key.id), 1u);
  Admission fourth = f->ledger.admit(key, t + 2s);
  EXPECT_TRUE(fourth.admitted());

  // Moving an admission moves the slot (e.g. into a streaming callback); release() is idempotent.
  Admission moved = std::move(fourth);
  EXPECT_EQ(f->ledger.running(key.id), 2u);
  moved.slot.release();
  moved.slot.release();
  EXPECT_EQ(f->ledger.running(key.id), 1u);

  // A slot may outlive the ledger (server shutdown while a stream is still open).
  f.reset();
  first.slot.release();
  EXPECT_FALSE(first.slot.held());
}

TEST(Quota, UnlimitedKeyIsNeverRefused) {
  Fixture f;
  KeyInfo key = f.make_key({});
  TimePoint t = at(2026y / April / 1);
  f.spend(key, 1'000'000'000, 1'000'000'000, t);
  std::vector<Admission> held;
  for (int i = 0; i < 500; ++i) {
    held.push_back(f.ledger.admit(key, t));
    ASSERT_TRUE(held.back().admitted());
  }
}

}  // namespace
}  // namespace autarky::tenants
