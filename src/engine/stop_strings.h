#pragma once
// Finds stop strings in streamed text. Text that could still turn out to be the start of a stop
// string is held back, so a caller that prints what feed() returns never shows any part of a
// stop string, even one split across tokens.

#include <string>
#include <string_view>
#include <vector>

namespace autarky {

class StopStringMatcher {
 public:
  explicit StopStringMatcher(std::vector<std::string> stops);

  struct Result {
    std::string emit;      // text that is now safe to show
    bool stopped = false;  // a stop string was completed; emit holds the text before it
  };
  Result feed(std::string_view text);
  // End of generation without a stop: the held-back text is released.
  std::string flush();

 private:
  std::vector<std::string> stops_;
  std::string pending_;  // received but not yet emitted
  bool stopped_ = false;
};

}  // namespace autarky
