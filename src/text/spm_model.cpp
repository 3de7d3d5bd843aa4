#include "text/spm_model.h"

#include <fmt/format.h>

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
  };
  std::vector<Symbol> syms;
  syms.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t len = std::min(char_length(static_cast<unsigned char>(text[pos])), text.size() - pos);
    const auto i = static_cast<std::int32_t>(syms.size());
    syms.push_back({static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(len), i - 1, -1});
    if (i > 0) syms[static_cast<std::size_t>(i - 1)].next = i;
    pos += len;
  }

  struct Candidate {
    float score;
    std::int32_t left, right;
    std::uint32_t length;  // of the merged piece; detects pairs made stale by other merges
    // priority_queue pops the largest: best score first, then leftmost.
    bool operator<(const Candidate& o) const { return score != o.score ? score < o.score : left > o.left; }
  };
  std::priority_queue<Candidate> queue;
  auto consider = [&](std::int32_t l, std::int32_t r) {
    if (l < 0 || r < 0) return;
    const Symbol& a = syms[static_cast<std::size_t>(l)];
    const Symbol& b = syms[static_cast<std::size_t>(r)];
    const std::string_view piece = std::string_view(text).substr(a.begin, a.length + b.length);
    const std::int32_t id = piece_token(piece);
    if (id < 0) return;
    queue.push({vocab_.tokens[static_cast<std::size_t>(id)].score, l, r, a.length + b.length});
  };
  for (std::int32_t i = 1; i < static_cast<std::int32_t>(syms.size()); ++i) consider(i - 1, i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = syms[static_cast<std::size_t>(c.left)];
    Symbol& right = syms[static_cast<std::size_t>(c.right)];
    if (left.length == 0 || right.length == 0 || left.length + right.length != c.length) continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) syms[static_cast<std::size_t>(right.next)].prev = c.left;
    consider(left.prev, c.left);
    consider(c.left, left.next);
  }

  for (std::int32_t i = 0; i >= 0; i = syms[static_cast<std::size_t>(i)].next) {
    const Symbol& s = syms[static_cast<std::size_t>(i)];
    const std::string_view piece = std::string_view(text).substr(s.begin, s.length);
    const std::int32_t id = piece_token(piece);
    if (id >= 0) {
      out.push_back(id);
    } else {
      emit_bytes(piece, out);
    }
  }
}

}  // namespace autarky::text
