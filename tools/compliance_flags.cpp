#include "compliance_flags.h"

#include "base/error.h"
#include "platform/atomic_file.h"

namespace autarky::cli {

void add_compliance_flags(CLI::App& app, ComplianceFlags& f, bool with_output) {
  app.add_option("--label", f.label, "Explicit 'AI-generated' notice: start, end or off")
      ->check(CLI::IsMember({"off", "start", "end"}))
      ->capture_default_str();
  app.add_option("--label-lang", f.label_lang, "Language of the notice: en, zh or both")
      ->check(CLI::IsMember({"en", "zh", "both"}))
      ->capture_default_str();
  app.add_option("--label-text", f.label_text, "Custom notice text (replaces --label-lang's)");
  app.add_option("--label-key", f.label_key,
                 "Provider key file (autarky keygen): integrity code in the implicit label and MACs in the audit log");
  app.add_option("--producer", f.producer, "ContentProducer of the implicit label (your provider name/code)")
      ->capture_default_str();
  app.add_option("--watermark-key", f.watermark_key, "Key file (autarky keygen): watermark the generated tokens");
  app.add_option("--watermark-delta", f.watermark.delta, "Watermark logit bias")->capture_default_str();
  app.add_option("--audit-log", f.audit_log, "Append a hash-chained record per generation to this file");
  if (with_output) {
    app.add_option("-o,--output", f.output, "Also write the generated text to FILE, and its implicit label to FILE.aigc.json");
  }
}

Compliance make_compliance(const ComplianceFlags& f) {
  compliance::LabelPolicy policy;
  policy.explicit_label = f.label != "off";
  policy.position = f.label == "end" ? compliance::LabelPosition::kEnd : compliance::LabelPosition::kStart;
  policy.language = f.label_lang;
  policy.explicit_text = f.label_text;
  if (f.producer.empty()) fail("--producer must not be empty");
  policy.content_producer = f.producer;

  std::optional<compliance::SecretKey> key;
  if (!f.label_key.empty()) key = compliance::SecretKey::load(f.label_key);
  std::shared_ptr<compliance::AuditLog> audit;
  if (!f.audit_log.empty()) {
    compliance::AuditOptions options;
    options.chain_key = key;
    audit = std::make_shared<compliance::AuditLog>(f.audit_log, options);
  }
  std::shared_ptr<const compliance::WatermarkProcessor> watermark;
  if (!f.watermark_key.empty()) {
    watermark =
        std::make_shared<compliance::WatermarkProcessor>(compliance::SecretKey::load(f.watermark_key), f.watermark);
  }
  return Compliance{compliance::ResponseLabeler(policy, key, audit), watermark};
}

void write_labelled_output(const std::string& path, std::string_view content, const compliance::LabelledResponse& label) {
  write_file_atomically(path, content);
  if (label.implicit_label()) compliance::write_aigc_sidecar(path, label.aigc());
}

}  // namespace autarky::cli
