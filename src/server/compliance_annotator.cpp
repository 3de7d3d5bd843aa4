#include "server/compliance_annotator.h"

#include <algorithm>
#include <exception>
#include <optional>
#include <utility>

#include "base/log.h"

namespace autarky::server {
namespace {

class ComplianceAnnotator final : public ResponseAnnotator {
 public:
  ComplianceAnnotator(compliance::LabelledResponse response, bool stream)
      : response_(std::move(response)), stream_(stream) {}

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
  bool finished_ = false;
  bool audited_ = false;
  std::optional<Usage> usage_;
};

}  // namespace

ResponseHooks compliance_hooks(std::shared_ptr<const compliance::ResponseLabeler> labeler) {
  ResponseHooks hooks;
  if (!labeler) return hooks;
  hooks.annotate = [labeler](const OpenAiRequest& request) -> std::unique_ptr<ResponseAnnotator> {
    return std::make_unique<ComplianceAnnotator>(labeler->start(), request.stream);
  };
  return hooks;
}

}  // namespace autarky::server
