#include "text/bpe_model.h"

#include <algorithm>
#include <queue>

#include "base/log.h"
#include "text/byte_level.h"
#include "text/utf8.h"

namespace autarky::text {

BpeModel::BpeModel(const Vocab& vocab, const PreTokenizerSpec& spec)
    : vocab_(vocab), splitter_(spec.patterns), ignore_merges_(spec.ignore_merges) {
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    append_utf8(ch, byte_to_codepoint(static_cast<std::uint8_t>(b)));
    byte_token_[b] = vocab.find(ch);
  }
  std::vector<std::pair<std::uint64_t, PairTable::Value>> entries;
  entries.reserve(vocab.merges.size());
  std::size_t unusable = 0;
  for (std::size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const std::string& m = vocab.merges[rank];
    // The separator is the first space after the first character: a merge may start with a space.
    const std::size_t sep = m.find(' ', 1);
    if (sep == std::string::npos) {
      ++unusable;
      continue;
    }
    const std::string_view left = std::string_view(m).substr(0, sep);
    const std::string_view right = std::string_view(m).substr(sep + 1);
    const std::int32_t l = vocab.find(left), r = vocab.find(right);
    const std::int32_t result = vocab.find(std::string(left) + std::string(right));
    if (l < 0 || r < 0 || result < 0) {
      ++unusable;
      continue;
    }
    entries.push_back({PairTable::key(l, r), PairTable::Value{static_cast<std::int32_t>(rank), result}});
  }
  if (unusable > 0) AUTARKY_LOG_WARN("tokenizer: {} of {} merges name texts that are not tokens; ignored", unusable, vocab.merges.size());
  merges_.build(entries);
}

void BpeModel::encode(std::string_view text, std::vector<std::int32_t>& out) const {
  std::vector<TextSpan> words;
  splitter_.split(text, words);
  std::vector<std::int32_t> syms;  // scratch, reused by every word
  for (const TextSpan& w : words) encode_word(text.substr(w.offset, w.length), syms, out);
}

void BpeModel::encode_word(std::string_view word, std::vector<std::int32_t>& syms, std::vector<std::int32_t>& out) const {
  if (ignore_merges_) {
    const std::int32_t whole = vocab_.find(bytes_to_byte_level(word));
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  syms.resize(word.size());
  for (std::size_t i = 0; i < word.size(); ++i) syms[i] = byte_token_[static_cast<std::uint8_t>(word[i])];
  // Rescanning is cheaper than a heap for the short words that make up most text.
  if (syms.size() <= kSmallWord) {
    merge_small(syms);
  } else {
    merge_large(syms);
  }
  for (std::int32_t id : syms) {
    // -1 only when the vocabulary lacks a byte's character; such a byte cannot be represented.
    if (id >= 0) out.push_back(id);
  }
}

void BpeModel::merge_small(std::vector<std::int32_t>& syms) const {
  // rank[i] / result[i] describe the pair (syms[i], syms[i + 1]); only the two pairs touching a
  // merge change, so each round is one scan over integers.
  constexpr std::int32_t kNone = INT32_MAX;
  std::int32_t rank[kSmallWord], result[kSmallWord];
  auto look_up = [&](std::size_t i) {
    const PairTable::Value* m = (syms[i] >= 0 && syms[i + 1] >= 0) ? merges_.find(syms[i], syms[i + 1]) : nullptr;
    rank[i] = m ? m->a : kNone;
    result[i] = m ? m->b : -1;
  };
  std::size_t n = syms.size();
  for (std::size_t i = 0; i + 1 < n; ++i) look_up(i);
  while (n > 1) {
    std::size_t best = 0;
    for (std::size_t i = 1; i + 1 < n; ++i) {
      if (rank[i] < rank[best]) best = i;  // strict: ties go to the leftmost pair
    }
    if (rank[best] == kNone) break;
    syms[best] = result[best];
    for (std::size_t i = best + 1; i + 1 < n; ++i) {
      syms[i] = syms[i + 1];
      rank[i] = rank[i + 1];
      result[i] = result[i + 1];
    }
    --n;
    if (best > 0) look_up(best - 1);
    if (best + 1 < n) look_up(best);
  }
  syms.resize(n);
}

void BpeModel::merge_large(std::vector<std::int32_t>& syms) const {
  const auto n = static_cast<std::int32_t>(syms.size());
  std::vector<std::int32_t> prev(static_cast<std::size_t>(n)), next(static_cast<std::size_t>(n));
  for (std::int32_t i = 0; i < n; ++i) {
    prev[static_cast<std::size_t>(i)] = i - 1;
    next[static_cast<std::size_t>(i)] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    std::int32_t rank, left, right, left_id, right_id, result;
    // priority_queue pops the largest: lowest rank first, then leftmost.
    bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  std::priority_queue<Candidate> queue;
  auto consider = [&](std::int32_t l, std::int32_t r) {
    if (l < 0 || r < 0) return;
    const std::int32_t a = syms[static_cast<std::size_t>(l)], b = syms[static_cast<std::size_t>(r)];
    if (a < 0 || b < 0) return;
    if (const PairTable::Value* m = merges_.find(a, b)) queue.push({m->a, l, r, a, b, m->b});
  };
  for (std::int32_t i = 0; i + 1 < n; ++i) consider(i, i + 1);
  constexpr std::int32_t kMerged = -2;  // marks a symbol absorbed into its left neighbour
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    // Stale entries: a side was merged away or changed since the pair was queued.
    if (syms[static_cast<std::size_t>(c.left)] != c.left_id || syms[static_cast<std::size_t>(c.right)] != c.right_id ||
        next[static_cast<std::size_t>(c.left)] != c.right) {
      continue;
    }
    syms[static_cast<std::size_t>(c.left)] = c.result;
    syms[static_cast<std::size_t>(c.right)] = kMerged;
    const std::int32_t after = next[static_cast<std::size_t>(c.right)];
    next[static_cast<std::size_t>(c.left)] = after;
    if (after >= 0) prev[static_cast<std::size_t>(after)] = c.left;
    consider(prev[static_cast<std::size_t>(c.left)], c.left);
    consider(c.left, after);
  }
  syms.erase(std::remove(syms.begin(), syms.end(), kMerged), syms.end());
}

}  // namespace autarky::text
