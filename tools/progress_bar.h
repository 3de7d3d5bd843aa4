#pragma once
// A one-line progress bar on stderr, drawn only when stderr is a terminal (logs and pipes stay
// clean).

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace autarky::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)), enabled_(::isatty(STDERR_FILENO) == 1) {}

  void update(std::size_t done, std::size_t total, const std::string& item) {
    if (!enabled_ || total == 0) return;
    constexpr int kWidth = 30;
    int filled = static_cast<int>(kWidth * done / total);
    fmt::print(stderr, "\r{} [{:=<{}}{:<{}}] {}/{} {:<40.40}", label_, "", filled, "", kWidth - filled, done, total,
               item);
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (drawn_) fmt::print(stderr, "\n");
    drawn_ = false;
  }

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
};

}  // namespace autarky::cli
