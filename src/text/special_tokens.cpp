#include "text/special_tokens.h"

#include <algorithm>

namespace autarky::text {
namespace {

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

std::uint16_t prefix_key(std::string_view s, std::size_t pos) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(s[pos]) << 8) | static_cast<unsigned char>(s[pos + 1]));
}

}  // namespace

SpecialTokenMatcher::SpecialTokenMatcher(const Vocab& vocab) : vocab_(vocab) {
  for (std::size_t rank = 0; rank < vocab.special_by_length.size(); ++rank) {
    const std::string& t = vocab.tokens[static_cast<std::size_t>(vocab.special_by_length[rank])].text;
    first_byte_[static_cast<unsigned char>(t[0])] = true;
    if (t.size() == 1) {
      by_single_byte_[static_cast<unsigned char>(t[0])].push_back(rank);
    } else {
      by_prefix_[prefix_key(t, 0)].push_back(rank);
    }
  }
}

std::vector<SpecialTokenMatcher::Occurrence> SpecialTokenMatcher::find_occurrences(std::string_view text,
                                                                                   bool parse_special) const {
  std::vector<Occurrence> found;
  const std::uint32_t skipped = parse_special ? 0u : (kAttrControl | kAttrUnknown);
  auto consider = [&](std::size_t rank, std::size_t pos) {
    const std::int32_t id = vocab_.special_by_length[rank];
    if (vocab_.attr(id) & skipped) return;
    const std::string& t = vocab_.tokens[static_cast<std::size_t>(id)].text;
    if (text.compare(pos, t.size(), t) == 0) found.push_back({rank, pos});
  };
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    const auto c = static_cast<unsigned char>(text[pos]);
    if (!first_byte_[c]) continue;
    for (std::size_t rank : by_single_byte_[c]) consider(rank, pos);
    if (pos + 1 < text.size()) {
      auto it = by_prefix_.find(prefix_key(text, pos));
      if (it != by_prefix_.end()) {
        for (std::size_t rank : it->second) consider(rank, pos);
      }
    }
  }
  std::sort(found.begin(), found.end(),
            [](const Occurrence& a, const Occurrence& b) { return a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos; });
  return found;
}

std::vector<Fragment> SpecialTokenMatcher::partition(std::string_view text, bool parse_special) const {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({-1, 0, text.size()});
  const std::vector<Occurrence> occ = find_occurrences(text, parse_special);

  // Tokens are applied one at a time, longest first; each takes its leftmost non-overlapping
  // occurrences that still lie entirely inside raw text.
  std::vector<Fragment> next;
  for (std::size_t g = 0; g < occ.size();) {
    std::size_t g_end = g;
    while (g_end < occ.size() && occ[g_end].rank == occ[g].rank) ++g_end;
    const std::int32_t id = vocab_.special_by_length[occ[g].rank];
    const std::uint32_t attr = vocab_.attr(id);
    const std::size_t tlen = vocab_.tokens[static_cast<std::size_t>(id)].text.size();

    next.clear();
    std::size_t j = g;
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      std::size_t cur = f.offset;
      const std::size_t end = f.offset + f.length;
      while (j < g_end && occ[j].pos < cur) ++j;
      while (j < g_end && occ[j].pos + tlen <= end) {
        const std::size_t m = occ[j++].pos;
        if (m < cur) continue;  // overlaps the previous match or stripped whitespace
        std::size_t left_len = m - cur;
        if (attr & kAttrLstrip) {
          while (left_len > 0 && is_ascii_space(text[cur + left_len - 1])) --left_len;
        }
        if (left_len > 0) next.push_back({-1, cur, left_len});
        next.push_back({id, m, tlen});
        cur = m + tlen;
        if (attr & kAttrRstrip) {
          while (cur < end && is_ascii_space(text[cur])) ++cur;
        }
      }
      if (cur < end) next.push_back({-1, cur, end - cur});
    }
    frags.swap(next);
    g = g_end;
  }
  return frags;
}

}  // namespace autarky::text
