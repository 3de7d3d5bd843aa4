// The ledger used the way the server uses it: many threads at once, and a process killed with
// SIGKILL in the middle of recording usage.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <sstream>
#include <thread>

#include "tenants/ledger.h"
#include "tenants/sqlite_db.h"
#include "test_support.h"

namespace autarky::tenants {
namespace {

TEST(LedgerThreads, ManyThreadsAuthenticateAdmitAndRecordWithoutLosingUsage) {
  test::TempDir dir;
  Ledger ledger((dir / "ledger.db").string(), OpenMode::kCreateIfMissing);
  NewKey shared = ledger.create_key("shared", {.max_concurrent = 3}, Clock::now());
  constexpr int kThreads = 6;
  constexpr int kRequestsPerThread = 40;

  std::atomic<int> holding{0};
  std::atomic<int> most_holding{0};
  std::atomic<int> admitted{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRequestsPerThread; ++i) {
        auto key = ledger.authenticate(shared.secret);
        if (!key) {
          ++failures;
          continue;
        }
        Admission admission = ledger.admit(*key, Clock::now());
        if (admission.admitted()) {
          int now_holding = ++holding;
          int seen = most_holding.load();
          while (now_holding > seen && !most_holding.compare_exchange_weak(seen, now_holding)) {
          }
          ++admitted;
        } else if (admission.rejection != Rejection::kConcurrency) {
          ++failures;
        }
        // Every request is recorded, admitted or not, so the totals below are exact. The slot is
        // held across the commit (an fsync), so admissions of different threads overlap.
        std::string request_id = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!ledger.record_usage({key->id, request_id, static_cast<std::uint64_t>(t + 1), 2, Clock::now()})) ++failures;
        if (admission.admitted()) {
          --holding;  // before the slot is given back, so `holding` never exceeds the slots out
          admission.slot.release();
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(admitted.load(), 0);
  EXPECT_LE(most_holding.load(), 3);  // never more slots out than max_concurrent
  EXPECT_EQ(ledger.running(shared.key.id), 0u);
  KeyUsage usage = ledger.usage(shared.key.id, Clock::now());
  // A midnight between the records and this read would split "today"; all_time never splits.
  EXPECT_EQ(usage.all_time.requests, std::uint64_t{kThreads * kRequestsPerThread});
  std::uint64_t expected_prompt = 0;
  for (int t = 0; t < kThreads; ++t) expected_prompt += std::uint64_t(t + 1) * kRequestsPerThread;
  EXPECT_EQ(usage.all_time.prompt_tokens, expected_prompt);
  EXPECT_EQ(usage.all_time.completion_tokens, 2u * kThreads * kRequestsPerThread);
  EXPECT_EQ(ledger.integrity_check(), "ok");
}

// The child records usage in a loop and, after each commit returns, writes the request id to a
// pipe. The parent SIGKILLs it mid-stream (several rounds on the same file) and then requires:
// the database opens, passes integrity_check, holds every acknowledged request, and its daily
// aggregates equal the sum of its request rows (both are written in one transaction).
[[noreturn]] void record_until_killed(const std::string& path, const std::string& key_id, int round, int fd) {
  try {
    alarm(60);  // never outlive a parent that died
    Ledger ledger(path, OpenMode::kMustExist);
    for (int i = 0; i < 1000000; ++i) {
      std::string id = "r" + std::to_string(round) + "-" + std::to_string(i);
      ledger.record_usage({key_id, id, static_cast<std::uint64_t>(i % 7 + 1), 3, Clock::now()});
      std::string line = id + "\n";
      if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
    }
    _exit(0);
  } catch (...) {
    _exit(2);
  }
}

TEST(LedgerCrash, KillNineLosesNoCommittedUsageAndLeavesNoCorruption) {
  test::TempDir dir;
  std::string path = (dir / "ledger.db").string();
  std::string key_id;
  {
    Ledger ledger(path, OpenMode::kCreateIfMissing);
    key_id = ledger.create_key("crash", {}, Clock::now()).key.id;
  }
  std::set<std::string> acknowledged;
  constexpr int kRounds = 3;
  constexpr std::size_t kAcksBeforeKill = 25;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      record_until_killed(path, key_id, round, fds[1]);
    }
    close(fds[1]);
    std::string received;
    std::size_t lines = 0;
    char buffer[4096];
    // Kill once the child has acknowledged enough commits: it is then busy in its loop, most
    // likely inside a transaction.
    while (lines < kAcksBeforeKill) {
      ssize_t n = read(fds[0], buffer, sizeof buffer);
      if (n <= 0) break;
      received.append(buffer, static_cast<std::size_t>(n));
      lines = static_cast<std::size_t>(std::count(received.begin(), received.end(), '\n'));
    }
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child ended early, status " << status;
    ssize_t n;
    while ((n = read(fds[0], buffer, sizeof buffer)) > 0) received.append(buffer, static_cast<std::size_t>(n));
    close(fds[0]);
    // Only complete lines count as acknowledged.
    std::istringstream stream(received.substr(0, received.rfind('\n') + 1));
    for (std::string line; std::getline(stream, line);) acknowledged.insert(line);
    ASSERT_GE(lines, kAcksBeforeKill) << "round " << round;
  }

  Ledger ledger(path, OpenMode::kMustExist);
  EXPECT_EQ(ledger.integrity_check(), "ok");
  SqliteDb db(path, false);
  std::set<std::string> stored;
  SqliteStatement rows(db, "SELECT request_id FROM usage_requests WHERE key_id = ?1");
  rows.bind(1, key_id);
  while (rows.step()) stored.insert(rows.column_text(0));
  for (const std::string& id : acknowledged) EXPECT_TRUE(stored.count(id)) << "acknowledged " << id << " was lost";
  EXPECT_GE(stored.size(), acknowledged.size());

  SqliteStatement sums(db,
                       "SELECT (SELECT count(*) FROM usage_requests), (SELECT sum(prompt_tokens) FROM usage_requests), "
                       "(SELECT sum(requests) FROM usage_daily), (SELECT sum(prompt_tokens) FROM usage_daily)");
  ASSERT_TRUE(sums.step());
  EXPECT_EQ(sums.column_int(0), sums.column_int(2));
  EXPECT_EQ(sums.column_int(1), sums.column_int(3));
  SqliteStatement fk(db, "PRAGMA foreign_key_check");
  EXPECT_FALSE(fk.step());
}

}  // namespace
}  // namespace autarky::tenants
