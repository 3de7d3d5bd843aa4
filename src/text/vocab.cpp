#include "text/vocab.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>

#include "base/error.h"
#include "base/log.h"
#include "gguf/gguf_file.h"
#include "text/pretokenizer.h"

namespace autarky::text {
namespace {

std::uint32_t attr_from_gguf_type(std::int64_t type) {
  switch (type) {
    case 1: return kAttrNormal;
    case 2: return kAttrUnknown;
    case 3: return kAttrControl;
    case 4: return kAttrUserDefined;
    case 5: return kAttrUnused;
    case 6: return kAttrByte;
    default: return kAttrUndefined;
  }
}

bool text_in(std::string_view text, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), text) != names.end();
}

// GGUF files converted by llama.cpp's scripts do not always mark end-of-turn and fill-in-middle
// tokens as control tokens, and often carry no id key for them. Readers of those files recognize
// them by their text; we do the same so that the same files behave the same way. A recognized
// token becomes a control token: it is never matched inside plain user text.
struct SpecialByText {
  const char* key;  // GGUF key that, when present, names the token instead
  std::initializer_list<std::string_view> texts;
};

const SpecialByText kEotTexts{"tokenizer.ggml.eot_token_id",
                              {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                               "<|end_of_text|>", "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>", "<end_of_utterance>"}};
const SpecialByText kEomTexts{"tokenizer.ggml.eom_token_id", {"<|eom_id|>"}};
const SpecialByText kFimTexts[] = {
    {"tokenizer.ggml.fim_pre_token_id",
     {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>"}},
    {"tokenizer.ggml.fim_suf_token_id",
     {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>"}},
    {"tokenizer.ggml.fim_mid_token_id",
     {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>"}},
    {"tokenizer.ggml.fim_pad_token_id", {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"}},
    {"tokenizer.ggml.fim_rep_token_id", {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"}},
    {"tokenizer.ggml.fim_sep_token_id", {"<|file_sep|>"}},
};
constexpr std::size_t kFimPad = 3, kFimRep = 4, kFimSep = 5;  // indices into kFimTexts: these end generation too

const std::initializer_list<std::string_view> kEogTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>",       "<|return|>",      "<|call|>",          "<end_of_turn>",
    "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>"};

class VocabLoader {
 public:
  explicit VocabLoader(const GgufFile& file) : f_(file) {}

  Vocab load() {
    v_.model_name = f_.get_string("tokenizer.ggml.model");
    if (v_.model_name == "llama") {
      v_.type = VocabType::kSpm;
      v_.bos_id = 1;
      v_.eos_id = 2;
      v_.unk_id = 0;
      v_.add_bos = true;
      v_.add_space_prefix = true;
    } else if (v_.model_name == "gpt2") {
      v_.type = VocabType::kBpe;
      v_.bos_id = 11;  // GPT-NeoX/Falcon convention for files that do not say
      v_.eos_id = 11;
    } else {
      fail("{}: tokenizer.ggml.model = \"{}\" is not supported (supported: \"llama\" SentencePiece, \"gpt2\" byte-level BPE)",
           f_.path(), v_.model_name);
    }
    v_.pre_name = f_.get_string_or("tokenizer.ggml.pre", "default");
    if (v_.type == VocabType::kBpe) {
      v_.add_bos = pre_tokenizer_for(v_.pre_name, f_.path()).adds_bos;
    } else {
      v_.pre_name = "default";
    }
    v_.add_space_prefix = f_.get_bool_or("tokenizer.ggml.add_space_prefix", v_.add_space_prefix);

    load_tokens();
    if (v_.type == VocabType::kBpe) v_.merges = f_.get_string_array("tokenizer.ggml.merges");
    load_special_ids();
    recognize_specials_by_text();
    build_special_cache();
    apply_strip_conventions();
    return std::move(v_);
  }

 private:
  void load_tokens() {
    std::vector<std::string> texts = f_.get_string_array("tokenizer.ggml.tokens");
    const std::size_t n = texts.size();
    if (n == 0) fail("{}: tokenizer.ggml.tokens is empty", f_.path());
    if (n > static_cast<std::size_t>(INT32_MAX)) fail("{}: tokenizer.ggml.tokens has {} entries", f_.path(), n);
    std::vector<double> scores;
    if (f_.find("tokenizer.ggml.scores")) {
      scores = f_.get_float_array("tokenizer.ggml.scores");
      if (scores.size() != n) fail("{}: tokenizer.ggml.scores has {} entries, tokens has {}", f_.path(), scores.size(), n);
    }
    std::vector<std::int64_t> types;
    if (f_.find("tokenizer.ggml.token_type")) {
      types = f_.get_int_array("tokenizer.ggml.token_type");
      if (types.size() != n) fail("{}: tokenizer.ggml.token_type has {} entries, tokens has {}", f_.path(), types.size(), n);
    }
    v_.tokens.resize(n);
    v_.token_to_id.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      TokenData& t = v_.tokens[i];
      // An empty text could never be matched and would break the merge bookkeeping; give it a
      // unique visible name instead (llama.cpp does the same).
      t.text = texts[i].empty() ? "[EMPTY_" + std::to_string(i) + "]" : std::move(texts[i]);
      t.score = scores.empty() ? 0.0f : static_cast<float>(scores[i]);
      t.attr = types.empty() ? kAttrNormal : attr_from_gguf_type(types[i]);
      v_.token_to_id[t.text] = static_cast<std::int32_t>(i);
    }
  }

  void read_id(const char* key, std::int32_t& id) {
    if (!f_.find(key)) return;
    const std::int64_t value = f_.get_int(key);
    // Converters write "no such token" as -1 stored in a u32; that is not worth a warning.
    if (value == -1 || value == 0xFFFFFFFFll) return;
    if (value < 0 || value >= v_.n_tokens()) {
      AUTARKY_LOG_WARN("{}: {} = {} is outside the vocabulary (size {}); using {}", f_.path(), key, value,
                       v_.n_tokens(), id);
      return;
    }
    id = static_cast<std::int32_t>(value);
  }

  void load_special_ids() {
    auto in_range = [&](std::int32_t& id) {
      if (id >= v_.n_tokens()) id = -1;
    };
    in_range(v_.bos_id);
    in_range(v_.eos_id);
    in_range(v_.unk_id);
    read_id("tokenizer.ggml.bos_token_id", v_.bos_id);
    read_id("tokenizer.ggml.eos_token_id", v_.eos_id);
    read_id("tokenizer.ggml.eot_token_id", v_.eot_id);
    read_id("tokenizer.ggml.eom_token_id", v_.eom_id);
    read_id("tokenizer.ggml.unknown_token_id", v_.unk_id);
    read_id("tokenizer.ggml.seperator_token_id", v_.sep_id);  // sic: the key is spelled this way in GGUF
    read_id("tokenizer.ggml.padding_token_id", v_.pad_id);
    v_.add_bos = f_.get_bool_or("tokenizer.ggml.add_bos_token", v_.add_bos);
    v_.add_eos = f_.get_bool_or("tokenizer.ggml.add_eos_token", v_.add_eos);
    if (v_.add_bos && v_.bos_id < 0) fail("{}: add_bos_token is set but there is no BOS token", f_.path());
    if (v_.add_eos && v_.eos_id < 0) fail("{}: add_eos_token is set but there is no EOS token", f_.path());
  }

  void make_control(std::int32_t id) { v_.tokens[static_cast<std::size_t>(id)].attr = kAttrControl; }

  // First token (in id order) whose text is one of `spec.texts`, unless the file names it by key.
  std::int32_t find_by_text(const SpecialByText& spec, std::int32_t current) {
    if (current >= 0) return current;
    std::int32_t id = -1;
    read_id(spec.key, id);
    if (id >= 0) return id;
    for (std::int32_t i = 0; i < v_.n_tokens(); ++i) {
      if (text_in(v_.tokens[static_cast<std::size_t>(i)].text, spec.texts)) {
        make_control(i);
        return i;
      }
    }
    return -1;
  }

  void recognize_specials_by_text() {
    v_.eot_id = find_by_text(kEotTexts, v_.eot_id);
    v_.eom_id = find_by_text(kEomTexts, v_.eom_id);
    std::int32_t fim[std::size(kFimTexts)];
    for (std::size_t k = 0; k < std::size(kFimTexts); ++k) fim[k] = find_by_text(kFimTexts[k], -1);
    for (std::size_t k : {kFimPad, kFimRep, kFimSep}) {
      if (fim[k] >= 0) v_.eog_ids.insert(fim[k]);
    }
    for (std::int32_t i = 0; i < v_.n_tokens(); ++i) {
      const std::string& text = v_.tokens[static_cast<std::size_t>(i)].text;
      if (text_in(text, kEogTexts)) {
        v_.eog_ids.insert(i);
        make_control(i);
      }
      // gpt-oss ("harmony") chat markup must always be rendered, so it is user-defined.
      if (text_in(text, {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"})) {
        v_.tokens[static_cast<std::size_t>(i)].attr = kAttrUserDefined;
      }
    }
    for (std::int32_t id : {v_.eos_id, v_.eot_id, v_.eom_id}) {
      if (id >= 0) v_.eog_ids.insert(id);
    }
    // In the harmony format "<|end|>" ends a message, not the turn, when "<|return|>" and
    // "<|call|>" exist.
    const std::int32_t ret = v_.find("<|return|>"), call = v_.find("<|call|>"), end = v_.find("<|end|>");
    if (ret >= 0 && call >= 0 && end >= 0 && v_.eog_ids.count(ret) && v_.eog_ids.count(call)) {
      v_.eog_ids.erase(end);
      v_.tokens[static_cast<std::size_t>(end)].attr = kAttrUserDefined;
    }
  }

  void build_special_cache() {
    for (std::int32_t i = 0; i < v_.n_tokens(); ++i) {
      if (v_.attr(i) & (kAttrControl | kAttrUserDefined | kAttrUnknown)) v_.special_by_length.push_back(i);
    }
    std::stable_sort(v_.special_by_length.begin(), v_.special_by_length.end(), [&](std::int32_t a, std::int32_t b) {
      return v_.tokens[static_cast<std::size_t>(a)].text.size() > v_.tokens[static_cast<std::size_t>(b)].text.size();
    });
  }

  void set_flag(std::int32_t id, std::uint32_t flag, bool on) {
    if (id < 0) return;
    auto& attr = v_.tokens[static_cast<std::size_t>(id)].attr;
    attr = on ? (attr | flag) : (attr & ~flag);
  }

  // Per-token strip flags are not stored in GGUF; the models that need them are known by name.
  void apply_strip_conventions() {
    std::string name = f_.get_string_or("general.name", "");
    std::transform(name.begin(), name.end(), name.begin(), [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    const std::string& pre = v_.pre_name;
    if (pre.find("jina-v2-de") != std::string::npos || pre.find("jina-v2-es") != std::string::npos ||
        pre.find("jina-v2-code") != std::string::npos) {
      set_flag(v_.find("<mask>"), kAttrLstrip, true);
    } else if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
      // Phi-3's tokenizer strips the whitespace after its chat markers.
      for (std::int32_t id : v_.special_by_length) set_flag(id, kAttrRstrip, true);
      set_flag(v_.find("</s>"), kAttrRstrip, true);
      for (const char* t : {"<unk>", "<s>", "<|endoftext|>"}) set_flag(v_.find(t), kAttrRstrip, false);
    }
  }

  const GgufFile& f_;
  Vocab v_;
};

}  // namespace

std::int32_t Vocab::find(std::string_view text) const {
  auto it = token_to_id.find(text);
  return it == token_to_id.end() ? -1 : it->second;
}

Vocab Vocab::from_gguf(const GgufFile& file) { return VocabLoader(file).load(); }

}  // namespace autarky::text
