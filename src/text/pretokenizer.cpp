#include "text/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>

#include "base/error.h"
#include "base/log.h"

namespace autarky::text {
namespace {

// The published split expressions of each tokenizer family (from the models' tokenizer.json
// files). Contractions are spelled out case by case instead of (?i:...) so that only ASCII
// letters fold, as in the original tokenizers.
constexpr std::string_view kContractionsCased = R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]))";
constexpr std::string_view kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

const std::string kLlama3 = std::string(kContractionsCased) +
                            R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kQwen2 = std::string(kContractionsCased) +
                           R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// DeepSeek LLM: letters of cased scripts (explicit ranges), ASCII/fullwidth punctuation, trailing
// whitespace, CJK and Hangul runs, digit runs. The letter ranges are written as escapes because
// several ends (U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126, U+212A) have canonical equivalents that
// an editor normalizing to NFC would silently substitute.
constexpr std::string_view kDeepseekLetters =
    "\\s?["
    "A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}"
    "-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}"
    "\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}"
    "\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}"
    "-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}"
    "\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}"
    "\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}"
    "\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}"
    "\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}"
    "-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}"
    "\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}"
    "\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}"
    "-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}"
    "-\\x{118DF}\\x{1E900}-\\x{1E943}"
    "]+";
constexpr std::string_view kDeepseekPunct = "\\s?[!-/:-~！-／：-～‘-‟　-。]+";
constexpr std::string_view kCjkHangul = "[一-龥ࠀ-一가-퟿]+";

const std::string kDeepseekV3Main =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kTekken =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kBloom = R"( ?[^(\s|.,!?…。，、।۔،)]+)";

const std::vector<PreTokenizerSpec>& specs() {
  static const std::vector<PreTokenizerSpec> table = {
      {{"default"}, {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}, false, false},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"}, {kLlama3}, true, true},
      {{"dbrx", "smaug-bpe", "chatglm-bpe", "glm4"}, {kLlama3}, false, false},
      {{"qwen2", "deepseek-r1-qwen", "stablelm2", "megrez", "hunyuan", "kormo", "grok-2"}, {kQwen2}, false, false},
      {{"deepseek-llm"},
       {"[\r\n]", kDeepseekLetters, kDeepseekPunct, "\\s+$", kCjkHangul, R"(\p{N}+)"},
       false,
       false},
      {{"deepseek-coder"}, {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjkHangul, R"(\p{N})"}, false, false},
      {{"deepseek-v3", "hunyuan-dense"}, {R"(\p{N}{1,3})", "[一-龥぀-ゟ゠-ヿ]+", kDeepseekV3Main}, false, false},
      {{"falcon"}, {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"}, false, false},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"}, {R"(\p{N})", kGpt2}, false, false},
      {{"gpt-2", "gpt2", "mpt", "gpt-neox", "olmo", "jais", "phi-2", "jina-es", "jina-de", "jina-v1-en", "jina-v2-es",
        "jina-v2-de", "jina-v2-code", "gigachat", "roberta-bpe", "trillion", "exaone4", "granite-docling"},
       {kGpt2},
       false,
       false},
      {{"poro-chat", "bloom", "gpt3-finnish"}, {kBloom}, false, false},
      {{"viking"}, {kBloom, R"(\p{N})"}, false, false},
      {{"tekken"}, {kTekken}, true, true},
  };
  return table;
}

}  // namespace

const PreTokenizerSpec& pre_tokenizer_for(std::string_view pre_name, std::string_view file) {
  for (const auto& spec : specs()) {
    for (auto n : spec.names) {
      if (n == pre_name) return spec;
    }
  }
  AUTARKY_LOG_WARN("{}: unknown tokenizer.ggml.pre \"{}\", using the default pre-tokenizer", file, pre_name);
  return specs().front();
}

struct RegexSplitter::Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Compiled() { pcre2_code_free(code); }
};

RegexSplitter::RegexSplitter(const std::vector<std::string_view>& patterns) {
  for (auto pattern : patterns) {
    auto c = std::make_unique<Compiled>();
    int error = 0;
    PCRE2_SIZE error_offset = 0;
    // DOLLAR_ENDONLY: "$" means the end of the piece, never "before a final newline".
    c->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                            PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error, &error_offset, nullptr);
    if (!c->code) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof(message));
      fail("pre-tokenizer pattern \"{}\": {} at offset {}", pattern, reinterpret_cast<const char*>(message), error_offset);
    }
    c->jit = pcre2_jit_compile(c->code, PCRE2_JIT_COMPLETE) == 0;
    stages_.push_back(std::move(c));
  }
}

RegexSplitter::~RegexSplitter() = default;

namespace {

struct MatchData {
  pcre2_match_data* md;
  explicit MatchData(const pcre2_code* code) : md(pcre2_match_data_create_from_pattern(code, nullptr)) {
    if (!md) throw std::bad_alloc();
  }
  ~MatchData() { pcre2_match_data_free(md); }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
};

// Next match of `code` in subject[start, size); false when there is none.
bool next_match(const pcre2_code* code, bool jit, std::string_view subject, std::size_t start, pcre2_match_data* md,
                std::size_t& match_begin, std::size_t& match_end) {
  const auto* s = reinterpret_cast<PCRE2_SPTR>(subject.data());
  int rc = jit ? pcre2_jit_match(code, s, subject.size(), start, 0, md, nullptr)
               : pcre2_match(code, s, subject.size(), start, PCRE2_NO_UTF_CHECK, md, nullptr);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    // Pathological input for the JIT's fixed stack: the interpreter keeps its state on the heap.
    rc = pcre2_match(code, s, subject.size(), start, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, nullptr);
  }
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(rc, message, sizeof(message));
    fail("pre-tokenizer: regex match failed on a {}-byte piece: {}", subject.size(), reinterpret_cast<const char*>(message));
  }
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  match_begin = ov[0];
  match_end = ov[1];
  return true;
}

std::size_t utf8_char_length(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

}  // namespace

void RegexSplitter::split(std::string_view text, std::vector<TextSpan>& out) const {
  if (text.empty()) return;
  std::vector<TextSpan> current{{0, text.size()}};
  std::vector<TextSpan> next;
  for (const auto& stage : stages_) {
    MatchData md(stage->code);
    next.clear();
    for (const TextSpan piece : current) {
      const std::string_view subject = text.substr(piece.offset, piece.length);
      std::size_t pos = 0;
      std::size_t begin = 0, end = 0;
      while (pos < subject.size() && next_match(stage->code, stage->jit, subject, pos, md.md, begin, end)) {
        if (end == begin) {
          // None of the published patterns can match the empty string; step over a character
          // anyway so a custom pattern can never loop forever.
          end = begin + utf8_char_length(static_cast<unsigned char>(subject[begin]));
          if (end > subject.size()) end = subject.size();
        }
        if (begin > pos) next.push_back({piece.offset + pos, begin - pos});
        next.push_back({piece.offset + begin, end - begin});
        pos = end;
      }
      if (pos < subject.size()) next.push_back({piece.offset + pos, subject.size() - pos});
    }
    current.swap(next);
  }
  out.insert(out.end(), current.begin(), current.end());
}

}  // namespace autarky::text
