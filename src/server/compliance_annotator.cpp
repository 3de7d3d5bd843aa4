#include "server/compliance_annotator.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "base/error.h"
#include "base/log.h"

namespace autarky::server {
namespace {

class ComplianceAnnotator final : public ResponseAnnotator {
 public:
  ComplianceAnnotator(compliance::LabelledResponse response, bool stream,
                      std::shared_ptr<const LogitProcessor> watermark)
      : response_(std::move(response)), stream_(stream), watermark_(std::move(watermark)) {}

  std::vector<std::shared_ptr<const LogitProcessor>> logit_processors() const override {
    if (!watermark_) return {};
    return {watermark_};
  }

  // A response that ended without finish() (the client went away) is audited here, with the
  // hash of what had been generated.
  ~ComplianceAnnotator() override {
    if (!usage_ || audited_) return;
    try {
      if (!finished_) response_.finish();
      finished_ = true;
      write_audit();
    } catch (const std::exception& e) {
      AUTARKY_LOG_WARN("compliance: audit record for {} not written: {}", response_.produce_id(), e.what());
    }
  }

  std::string begin(ResponseDecoration& early) override {
    if (stream_) {
      std::string header = response_.early_header_value();
      if (!header.empty()) early.headers.emplace_back(compliance::ResponseLabeler::kHeaderName, std::move(header));
    }
    return response_.begin();
  }

  void feed(std::string_view text) override { response_.feed(text); }

  std::string finish(ResponseDecoration& late) override {
    finished_ = true;
    std::string tail = response_.finish();
    if (response_.implicit_label()) {
      late.fields["aigc"] = response_.aigc();
      if (!stream_) late.headers.emplace_back(compliance::ResponseLabeler::kHeaderName, response_.header_value());
    }
    if (usage_ && !audited_) write_audit();
    return tail;
  }

  // The server may report usage before finish() (a whole answer's usage is recorded first): the
  // record then waits for the content hash that finish() computes.
  void done(const std::string& key_id, std::int64_t prompt_tokens, std::int64_t completion_tokens) override {
    usage_ = Usage{key_id, static_cast<std::uint64_t>(std::max<std::int64_t>(prompt_tokens, 0)),
                   static_cast<std::uint64_t>(std::max<std::int64_t>(completion_tokens, 0))};
    if (finished_ && !audited_) write_audit();
  }

 private:
  struct Usage {
    std::string key_id;
    std::uint64_t prompt_tokens = 0, completion_tokens = 0;
  };
  void write_audit() {
    audited_ = true;
    response_.audit(usage_->key_id, usage_->prompt_tokens, usage_->completion_tokens);
  }

  compliance::LabelledResponse response_;
  bool stream_;
  std::shared_ptr<const LogitProcessor> watermark_;  // null: this response is not watermarked
  bool finished_ = false;
  bool audited_ = false;
  std::optional<Usage> usage_;
};

// Keys that want a watermark the server cannot apply, each warned about once per process.
class MissingWatermarkWarnings {
 public:
  void note(const std::string& key_id) {
    std::lock_guard lock(mutex_);
    if (!warned_.insert(key_id).second) return;
    AUTARKY_LOG_WARN("serve: key {} asks for the watermark, but the server has no --watermark-key: its responses "
                     "are labelled but not watermarked",
                     key_id.empty() ? "(open mode)" : key_id);
  }

 private:
  std::mutex mutex_;
  std::set<std::string> warned_;
};

}  // namespace

ResolvedPolicy resolve_key_policy(const compliance::LabelPolicy& server, bool server_watermark,
                                  const tenants::KeyPolicy& key) {
  ResolvedPolicy out{server, key.watermark.value_or(server_watermark)};
  compliance::LabelPolicy& label = out.label;
  if (key.label) {
    label.explicit_label = *key.label != "off";
    if (*key.label == "start") label.position = compliance::LabelPosition::kStart;
    if (*key.label == "end") label.position = compliance::LabelPosition::kEnd;
  }
  if (key.label_language) {
    label.language = *key.label_language;
    label.explicit_text.clear();
  }
  if (key.label_text) label.explicit_text = *key.label_text;
  return out;
}

ResponseHooks compliance_hooks(ServerCompliance config) {
  AUTARKY_ASSERT(config.labeler, "compliance_hooks: a server with compliance needs a labeler");
  auto warnings = std::make_shared<MissingWatermarkWarnings>();
  ResponseHooks hooks;
  hooks.annotate = [config = std::move(config), warnings](const OpenAiRequest& request, const AccessGrant& grant)
      -> std::unique_ptr<ResponseAnnotator> {
    ResolvedPolicy policy = resolve_key_policy(config.labeler->policy(), config.watermark_by_default, grant.policy);
    // Only a key's own choice is worth a warning; the server's default needs a key to mean "on".
    if (grant.policy.watermark.value_or(false) && !config.watermark) warnings->note(grant.key_id);
    return std::make_unique<ComplianceAnnotator>(config.labeler->start(&policy.label), request.stream,
                                                 policy.watermark ? config.watermark : nullptr);
  };
  return hooks;
}

ResponseHooks compliance_hooks(std::shared_ptr<const compliance::ResponseLabeler> labeler) {
  if (!labeler) return {};
  return compliance_hooks(ServerCompliance{std::move(labeler), nullptr, false});
}

}  // namespace autarky::server
