#pragma once
// Compliance flags of the commands that generate text (run, chat): the explicit label (on by
// default), the implicit label written as a FILE.aigc.json sidecar with --output, the watermark,
// and the audit log. docs/COMPLIANCE.md describes what each does.

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "compliance/response_labeler.h"
#include "compliance/watermark.h"

namespace autarky::cli {

struct ComplianceFlags {
  std::string label = "start";     // off | start | end
  std::string label_lang = "en";   // en | zh | both
  std::string label_text;          // replaces the language's notice
  std::string label_key;           // provider key: ReservedCode1 integrity codes, audit MACs
  std::string producer = "autarky";
  std::string watermark_key;       // empty: no watermark
  compliance::WatermarkParams watermark;
  std::string output;              // empty: stdout only
  std::string audit_log;           // empty: no audit records
};

void add_compliance_flags(CLI::App& app, ComplianceFlags& f, bool with_output);

struct Compliance {
  compliance::ResponseLabeler labeler;
  std::shared_ptr<const compliance::WatermarkProcessor> watermark;  // null: off
};

// Loads keys, opens the audit log; errors name the flag and file.
Compliance make_compliance(const ComplianceFlags& f);

// -o FILE: writes `content` (generated text, explicit label included) to `path` atomically and,
// unless implicit labels are off, `label`'s implicit label to FILE.aigc.json. `label` must be
// finished and cover exactly `content`.
void write_labelled_output(const std::string& path, std::string_view content,
                           const compliance::LabelledResponse& label);

}  // namespace autarky::cli
