#include "text/spm_model.h"

#include <fmt/format.h>

#include <bit>
#include <queue>
#include <string>

#include "text/utf8.h"

namespace autarky::text {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

std::string escape_spaces(std::string_view text, bool leading_space) {
  std::string out;
  out.reserve(text.size() + text.size() / 4 + 3);
  if (leading_space) out.append(kSpaceMark);
  for (char c : text) {
    if (c == ' ') {
      out.append(kSpaceMark);
    } else {
      out += c;
    }
  }
  return out;
}

std::size_t char_length(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

bool space_mark_at(std::string_view s, std::size_t pos) { return s.compare(pos, kSpaceMark.size(), kSpaceMark) == 0; }

// Higher scores give higher keys, as unsigned integers; never 0 for a real score (only for the
// one NaN whose bits are all set), so 0 can mean "no merge".
std::uint32_t score_key(float score) {
  const auto bits = std::bit_cast<std::uint32_t>(score);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

}  // namespace

SpmModel::SpmModel(const Vocab& vocab) : vocab_(vocab) {
  for (int b = 0; b < 256; ++b) {
    std::int32_t id = vocab.find(fmt::format("<0x{:02X}>", b));
    if (id < 0) id = vocab.find(std::string(1, static_cast<char>(b)));  // vocabularies without byte tokens
    byte_tokens_[b] = id >= 0 ? id : vocab.unk_id;
  }
  for (int c = 0; c < 128; ++c) ascii_tokens_[c] = piece_token(std::string(1, static_cast<char>(c)));

  std::vector<std::pair<std::uint64_t, PairTable::Value>> chars, pairs;
  words_are_independent_ = true;
  for (std::int32_t id = 0; id < vocab.n_tokens(); ++id) {
    const std::string_view text = vocab.tokens[static_cast<std::size_t>(id)].text;
    if (piece_token(text) != id) continue;
    if (text.size() > 1 && text.size() <= 4 && valid_sequence_length(text, 0) == text.size()) {
      chars.push_back({PairTable::key(static_cast<std::int32_t>(decode_sequence(text, 0, text.size())), 0), {id, 0}});
    }
    for (std::size_t pos = 1; pos + kSpaceMark.size() <= text.size(); ++pos) {
      if (space_mark_at(text, pos) && !(pos >= kSpaceMark.size() && space_mark_at(text, pos - kSpaceMark.size()))) {
        words_are_independent_ = false;  // this token joins a character to the space after it
      }
    }
    const auto score_bits = std::bit_cast<std::int32_t>(vocab.tokens[static_cast<std::size_t>(id)].score);
    for (std::size_t cut = 1; cut < text.size(); ++cut) {
      const std::int32_t l = piece_token(text.substr(0, cut));
      if (l < 0) continue;
      const std::int32_t r = piece_token(text.substr(cut));
      if (r >= 0) pairs.push_back({PairTable::key(l, r), PairTable::Value{id, score_bits}});
    }
  }
  char_tokens_.build(chars);
  pairs_.build(pairs);
}

std::int32_t SpmModel::piece_token(std::string_view piece) const {
  const std::int32_t id = vocab_.find(piece);
  if (id < 0 || (vocab_.attr(id) & (kAttrControl | kAttrUnknown | kAttrByte))) return -1;
  return id;
}

SpmModel::Merge SpmModel::find_merge(std::string_view word, const Symbol& left, const Symbol& right) const {
  if (left.id >= 0 && right.id >= 0) {
    const PairTable::Value* v = pairs_.find(left.id, right.id);
    if (!v) return {0, -1};
    return {score_key(std::bit_cast<float>(v->b)), v->a};
  }
  // A character that is not a token: only its text can tell whether a pair with it is one.
  const std::int32_t id = piece_token(word.substr(left.begin, left.length + right.length));
  if (id < 0) return {0, -1};
  return {score_key(vocab_.tokens[static_cast<std::size_t>(id)].score), id};
}

void SpmModel::encode(std::string_view raw, bool after_special, std::vector<std::int32_t>& out) const {
  const std::string text = escape_spaces(raw, after_special && vocab_.add_space_prefix);
  if (text.empty()) return;
  std::vector<Symbol> syms;  // scratch, reused by every word
  const std::string_view all = text;
  if (!words_are_independent_) {
    encode_word(all, syms, out);
    return;
  }
  // A word ends before each "▁" that follows another character.
  std::size_t start = 0;
  for (std::size_t pos = 1; pos < all.size(); ++pos) {
    if (all[pos] != kSpaceMark[0] || !space_mark_at(all, pos)) continue;
    if (pos >= kSpaceMark.size() && space_mark_at(all, pos - kSpaceMark.size())) continue;
    encode_word(all.substr(start, pos - start), syms, out);
    start = pos;
  }
  encode_word(all.substr(start), syms, out);
}

void SpmModel::encode_word(std::string_view word, std::vector<Symbol>& syms, std::vector<std::int32_t>& out) const {
  syms.clear();
  for (std::size_t pos = 0; pos < word.size();) {
    const auto lead = static_cast<unsigned char>(word[pos]);
    std::size_t len = 1;
    std::int32_t id;
    if (lead < 0x80) {
      id = ascii_tokens_[lead];
    } else {
      len = std::min(char_length(lead), word.size() - pos);
      const PairTable::Value* v = char_tokens_.find(static_cast<std::int32_t>(decode_sequence(word, pos, len)), 0);
      id = v ? v->a : -1;
    }
    syms.push_back({static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(len), id});
    pos += len;
  }
  if (syms.size() <= kSmallWord) {
    merge_small(word, syms);
  } else {
    merge_large(word, syms);
  }
  for (const Symbol& s : syms) emit(word, s, out);
}

void SpmModel::emit(std::string_view word, const Symbol& s, std::vector<std::int32_t>& out) const {
  if (s.id >= 0) {
    out.push_back(s.id);
    return;
  }
  for (char c : word.substr(s.begin, s.length)) {
    const std::int32_t id = byte_tokens_[static_cast<std::uint8_t>(c)];
    if (id >= 0) out.push_back(id);
  }
}

void SpmModel::merge_small(std::string_view word, std::vector<Symbol>& syms) const {
  // merges[i] describes the pair (syms[i], syms[i + 1]); a merge changes only its two neighbours,
  // so each round is one scan for the best score (ties: leftmost) and a shift.
  Merge merges[kSmallWord];
  std::size_t n = syms.size();
  for (std::size_t i = 0; i + 1 < n; ++i) merges[i] = find_merge(word, syms[i], syms[i + 1]);
  while (n > 1) {
    std::size_t best = 0;
    for (std::size_t i = 1; i + 1 < n; ++i) {
      if (merges[i].priority > merges[best].priority) best = i;
    }
    if (merges[best].priority == 0) break;
    syms[best].length += syms[best + 1].length;
    syms[best].id = merges[best].id;
    for (std::size_t i = best + 1; i + 1 < n; ++i) {
      syms[i] = syms[i + 1];
      merges[i] = merges[i + 1];
    }
    --n;
    if (best > 0) merges[best - 1] = find_merge(word, syms[best - 1], syms[best]);
    if (best + 1 < n) merges[best] = find_merge(word, syms[best], syms[best + 1]);
  }
  syms.resize(n);
}

void SpmModel::merge_large(std::string_view word, std::vector<Symbol>& syms) const {
  // Symbols stay in place, linked in order; a merged-away symbol has length 0.
  const auto n = static_cast<std::int32_t>(syms.size());
  std::vector<std::int32_t> prev(syms.size()), next(syms.size());
  for (std::int32_t i = 0; i < n; ++i) {
    prev[static_cast<std::size_t>(i)] = i - 1;
    next[static_cast<std::size_t>(i)] = i + 1 < n ? i + 1 : -1;
  }
  // Best score first, then leftmost, packed into one integer so heap comparisons are cheap. The
  // right symbol is not stored: while a pair is current it is always the left symbol's next.
  struct Candidate {
    std::uint64_t priority;  // [score key : 32][~left : 32]
    std::uint32_t length;    // of the merged piece; detects pairs made stale by other merges
    std::int32_t id;         // the merged token
    bool operator<(const Candidate& o) const { return priority < o.priority; }
    std::int32_t left() const { return static_cast<std::int32_t>(~static_cast<std::uint32_t>(priority)); }
  };
  std::vector<Candidate> heap_storage;
  heap_storage.reserve(syms.size() * 2);
  std::priority_queue<Candidate> queue(std::less<Candidate>(), std::move(heap_storage));
  auto consider = [&](std::int32_t l, std::int32_t r) {
    if (l < 0 || r < 0) return;
    const Symbol& a = syms[static_cast<std::size_t>(l)];
    const Symbol& b = syms[static_cast<std::size_t>(r)];
    const Merge m = find_merge(word, a, b);
    if (m.priority == 0) return;
    queue.push({(static_cast<std::uint64_t>(m.priority) << 32) | ~static_cast<std::uint32_t>(l), a.length + b.length, m.id});
  };
  for (std::int32_t i = 1; i < n; ++i) consider(i - 1, i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    const std::int32_t l = c.left();
    Symbol& left = syms[static_cast<std::size_t>(l)];
    const std::int32_t r = next[static_cast<std::size_t>(l)];
    if (left.length == 0 || r < 0) continue;
    Symbol& right = syms[static_cast<std::size_t>(r)];
    if (left.length + right.length != c.length) continue;
    left.length += right.length;
    left.id = c.id;
    right.length = 0;
    const std::int32_t after = next[static_cast<std::size_t>(r)];
    next[static_cast<std::size_t>(l)] = after;
    if (after >= 0) prev[static_cast<std::size_t>(after)] = l;
    consider(prev[static_cast<std::size_t>(l)], l);
    consider(l, after);
  }
  std::size_t kept = 0;
  for (const Symbol& s : syms) {
    if (s.length > 0) syms[kept++] = s;
  }
  syms.resize(kept);
}

}  // namespace autarky::text
