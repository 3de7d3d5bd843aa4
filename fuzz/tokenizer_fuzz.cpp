// libFuzzer target for the tokenizers and the streaming decoder. The vocabularies come from the
// environment (the fuzz build has no test data of its own): AUTARKY_FUZZ_VOCABS is a
// colon-separated list of GGUF files with a tokenizer; scripts/run-fuzz.sh passes the golden
// vocabularies and the bundled model. The first input byte picks the vocabulary, the rest is text
// (arbitrary bytes: invalid UTF-8, NULs, special-token texts, ...). For every input:
//   - encode never fails and gives ids inside the vocabulary, with and without special parsing;
//   - plain encoding equals the encoding of the repaired text (invalid bytes -> U+FFFD);
//   - decoding gives the repaired text back whenever the round trip is defined (the vocabulary
//     spells every byte, and no added token was matched: SentencePiece puts a space after those),
//     with SentencePiece's space mark U+2581 read back as the space it stands for;
//   - streaming the ids emits only valid UTF-8 that adds up to decode();
//   - the same holds for the input read as arbitrary token ids (any sequence a model may sample).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_file.h"
#include "text/streaming_decoder.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace {

using autarky::text::Tokenizer;

struct Loaded {
  autarky::GgufFile file;
  std::unique_ptr<Tokenizer> tok;
  bool spells_every_byte = true;  // decode(encode(t)) == t is possible at all
};

std::vector<std::unique_ptr<Loaded>> load_vocabs() {
  std::vector<std::unique_ptr<Loaded>> out;
  const char* env = std::getenv("AUTARKY_FUZZ_VOCABS");
  if (!env || !*env) {
    std::fprintf(stderr, "tokenizer_fuzz: set AUTARKY_FUZZ_VOCABS to a colon-separated list of GGUF files\n");
    std::abort();
  }
  std::string_view list = env;
  while (!list.empty()) {
    const std::size_t colon = list.find(':');
    const std::string path(list.substr(0, colon));
    list = colon == std::string_view::npos ? std::string_view() : list.substr(colon + 1);
    if (path.empty()) continue;
    auto file = autarky::GgufFile::open(path);
    auto tok = Tokenizer::from_gguf(file);
    auto loaded = std::make_unique<Loaded>(Loaded{std::move(file), std::move(tok)});
    for (int b = 0; b < 256; ++b) {
      const std::string one(1, static_cast<char>(b));
      if (loaded->tok->decode(loaded->tok->encode(one, false, false)) != autarky::text::repair_utf8(one)) {
        loaded->spells_every_byte = false;  // e.g. Falcon's vocabulary has no token for some control bytes
      }
    }
    std::fprintf(stderr, "tokenizer_fuzz: %s (%d tokens%s)\n", path.c_str(), loaded->tok->n_vocab(),
                 loaded->spells_every_byte ? "" : ", not every byte representable");
    out.push_back(std::move(loaded));
  }
  if (out.empty()) std::abort();
  return out;
}

const std::vector<std::unique_ptr<Loaded>>& vocabs() {
  static const auto loaded = load_vocabs();
  return loaded;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tokenizer_fuzz: property failed: %s\n", what);
    std::abort();
  }
}

bool is_added_token(const Tokenizer& tok, std::int32_t id) {
  return (tok.vocab().attr(id) & (autarky::text::kAttrUserDefined | autarky::text::kAttrControl |
                                  autarky::text::kAttrUnknown)) != 0;
}

// Streams `ids` and checks each chunk is valid UTF-8 and that the chunks add up to decode().
void check_streaming(const Tokenizer& tok, const std::vector<std::int32_t>& ids) {
  autarky::text::StreamingDecoder stream(tok, /*strip_leading_space=*/true);
  std::string joined;
  for (std::int32_t id : ids) {
    const std::string chunk = stream.push(id);
    check(autarky::text::is_valid_utf8(chunk), "streamed chunk is valid UTF-8");
    joined += chunk;
  }
  joined += stream.finish();
  check(autarky::text::is_valid_utf8(joined), "stream end is valid UTF-8");
  check(joined == tok.decode(ids), "streamed text equals decode()");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& all = vocabs();
  const Loaded& v = *all[data[0] % all.size()];
  const Tokenizer& tok = *v.tok;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  const std::vector<std::int32_t> plain = tok.encode(text, false, false);
  const std::vector<std::int32_t> parsed = tok.encode(text, true, true);
  bool has_added = false;
  for (std::int32_t id : plain) {
    check(id >= 0 && id < tok.n_vocab(), "plain id inside the vocabulary");
    check(!(tok.vocab().attr(id) & autarky::text::kAttrControl), "no control token from plain text");
    has_added = has_added || is_added_token(tok, id);
  }
  for (std::int32_t id : parsed) check(id >= 0 && id < tok.n_vocab(), "parsed id inside the vocabulary");

  const std::string repaired = autarky::text::repair_utf8(text);
  check(tok.encode(repaired, false, false) == plain, "encoding the repaired text gives the same ids");
  const std::string decoded = tok.decode(plain);
  check(autarky::text::is_valid_utf8(decoded), "decode gives valid UTF-8");
  if (v.spells_every_byte && !has_added) {
    std::string expected = repaired;
    if (tok.vocab().type == autarky::text::VocabType::kSpm) {
      static constexpr std::string_view kSpaceMark = "\xE2\x96\x81";
      for (std::size_t at; (at = expected.find(kSpaceMark)) != std::string::npos;) expected.replace(at, kSpaceMark.size(), " ");
    }
    check(decoded == expected, "decode(encode(text)) == repaired text");
  }
  check_streaming(tok, plain);
  check_streaming(tok, parsed);

  // The input as token ids, three bytes each: any id sequence must stream and decode cleanly.
  std::vector<std::int32_t> ids;
  for (std::size_t i = 1; i + 3 <= size; i += 3) {
    const std::uint32_t raw = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16);
    ids.push_back(static_cast<std::int32_t>(raw % static_cast<std::uint32_t>(tok.n_vocab())));
  }
  check_streaming(tok, ids);
  autarky::text::DecodeOptions render{.render_special = true, .strip_leading_space = false};
  check(autarky::text::is_valid_utf8(tok.decode(ids, render)), "rendered decode is valid UTF-8");
  return 0;
}
