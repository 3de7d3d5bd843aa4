#include "text/spm_model.h"

#include <fmt/format.h>

#include <bit>
#include <queue>
#include <string>

namespace autarky::text {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

std::string escape_spaces(std::string_view text, bool leading_space) {
  std::string out;
  out.reserve(text.size() + 8);
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

}  // namespace

SpmModel::SpmModel(const Vocab& vocab) : vocab_(vocab) {
  for (int b = 0; b < 256; ++b) {
    std::int32_t id = vocab.find(fmt::format("<0x{:02X}>", b));
    if (id < 0) id = vocab.find(std::string(1, static_cast<char>(b)));  // vocabularies without byte tokens
    byte_tokens_[b] = id >= 0 ? id : vocab.unk_id;
  }
  for (int c = 0; c < 128; ++c) ascii_tokens_[c] = piece_token(std::string(1, static_cast<char>(c)));
  std::vector<std::pair<std::uint64_t, PairTable::Value>> entries;
  for (std::int32_t id = 0; id < vocab.n_tokens(); ++id) {
    if (piece_token(vocab.tokens[static_cast<std::size_t>(id)].text) != id) continue;
    const std::string_view text = vocab.tokens[static_cast<std::size_t>(id)].text;
    const auto score_bits = std::bit_cast<std::int32_t>(vocab.tokens[static_cast<std::size_t>(id)].score);
    for (std::size_t cut = 1; cut < text.size(); ++cut) {
      const std::int32_t l = piece_token(text.substr(0, cut));
      if (l < 0) continue;
      const std::int32_t r = piece_token(text.substr(cut));
      if (r >= 0) entries.push_back({PairTable::key(l, r), PairTable::Value{id, score_bits}});
    }
  }
  pairs_.build(entries);
}

std::int32_t SpmModel::piece_token(std::string_view piece) const {
  const std::int32_t id = vocab_.find(piece);
  if (id < 0 || (vocab_.attr(id) & (kAttrControl | kAttrUnknown | kAttrByte))) return -1;
  return id;
}

void SpmModel::emit_bytes(std::string_view piece, std::vector<std::int32_t>& out) const {
  for (char c : piece) {
    const std::int32_t id = byte_tokens_[static_cast<std::uint8_t>(c)];
    if (id >= 0) out.push_back(id);
  }
}

void SpmModel::encode(std::string_view raw, bool after_special, std::vector<std::int32_t>& out) const {
  const std::string text = escape_spaces(raw, after_special && vocab_.add_space_prefix);
  if (text.empty()) return;

  // Symbols are byte ranges of `text`, linked in order; a merged-away symbol has length 0.
  struct Symbol {
    std::uint32_t begin, length;
    std::int32_t prev, next;
    std::int32_t id;  // token of the symbol's text, -1 for a character that is not a token
  };
  std::vector<Symbol> syms;
  syms.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    const std::size_t len = std::min(char_length(lead), text.size() - pos);
    const std::int32_t id = lead < 0x80 ? ascii_tokens_[lead] : piece_token(std::string_view(text).substr(pos, len));
    const auto i = static_cast<std::int32_t>(syms.size());
    syms.push_back({static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(len), i - 1, -1, id});
    if (i > 0) syms[static_cast<std::size_t>(i - 1)].next = i;
    pos += len;
  }

  // Best score first, then leftmost, packed into one integer so heap comparisons are cheap. The
  // right symbol is not stored: while a pair is current it is always the left symbol's next.
  struct Candidate {
    std::uint64_t priority;  // [order-preserving score bits : 32][~left : 32]
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
    std::int32_t id;
    float score;
    if (a.id >= 0 && b.id >= 0) {
      const PairTable::Value* v = pairs_.find(a.id, b.id);
      if (!v) return;
      id = v->a;
      score = std::bit_cast<float>(v->b);
    } else {
      id = piece_token(std::string_view(text).substr(a.begin, a.length + b.length));
      if (id < 0) return;
      score = vocab_.tokens[static_cast<std::size_t>(id)].score;
    }
    const auto bits = std::bit_cast<std::uint32_t>(score);
    const std::uint32_t ordered = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
    const std::uint64_t priority = (static_cast<std::uint64_t>(ordered) << 32) | ~static_cast<std::uint32_t>(l);
    queue.push({priority, a.length + b.length, id});
  };
  for (std::int32_t i = 1; i < static_cast<std::int32_t>(syms.size()); ++i) consider(i - 1, i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    const std::int32_t l = c.left();
    Symbol& left = syms[static_cast<std::size_t>(l)];
    if (left.length == 0 || left.next < 0) continue;
    Symbol& right = syms[static_cast<std::size_t>(left.next)];
    if (left.length + right.length != c.length) continue;
    left.length += right.length;
    left.id = c.id;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) syms[static_cast<std::size_t>(right.next)].prev = l;
    consider(left.prev, l);
    consider(l, left.next);
  }

  for (std::int32_t i = 0; i >= 0; i = syms[static_cast<std::size_t>(i)].next) {
    const Symbol& s = syms[static_cast<std::size_t>(i)];
    if (s.id >= 0) {
      out.push_back(s.id);
    } else {
      emit_bytes(std::string_view(text).substr(s.begin, s.length), out);
    }
  }
}

}  // namespace autarky::text
