#pragma once
// The compliance layer's ResponseAnnotator (server/response_hook.h): every completion response
// gets the explicit label in its content, the GB 45438 implicit label as an `aigc` object (in the
// response body, or in the last content chunk of a stream) and as an AIGC-Label HTTP header, and
// one audit record. All of it comes from compliance::ResponseLabeler; this file only maps the
// server's seam onto it.
//
// Headers: a non-streamed response gets the complete label; a stream's headers leave before the
// content exists, so it gets the label without ReservedCode1 (the integrity code needs the
// content's hash), and the complete label arrives in the last chunk's `aigc`.
// A client that disconnects mid-stream still gets an audit record; its content hash then covers
// the text generated until the disconnect plus the closing label that was never delivered.

//
// Policies per API key (tenants/key_policy.h): the grant's key policy overrides the server's
// explicit label (position or off, language, text) and whether the watermark is applied. The
// implicit label and the audit record are never turned off by a key. A key that asks for the
// watermark on a server without a watermark key is served unwatermarked, with a warning logged
// once per key (the watermark key is the server's; keys cannot bring their own).

#include <memory>

#include "compliance/response_labeler.h"
#include "sampling/sampler.h"
#include "server/response_hook.h"
#include "tenants/key_policy.h"

namespace autarky::server {

struct ServerCompliance {
  std::shared_ptr<const compliance::ResponseLabeler> labeler;  // required: the server's label policy
  std::shared_ptr<const LogitProcessor> watermark;              // null: the server has no watermark key
  bool watermark_by_default = true;  // for keys that do not choose (and open mode)
};

// What one key gets on this server.
struct ResolvedPolicy {
  compliance::LabelPolicy label;
  bool watermark = false;  // wanted; applied only if the server has a watermark key
};
// Unset key fields inherit the server's. A key that sets a language but no text drops the
// server's custom text (else the language could never take effect); implicit stays as the server's.
ResolvedPolicy resolve_key_policy(const compliance::LabelPolicy& server, bool server_watermark,
                                  const tenants::KeyPolicy& key);

ResponseHooks compliance_hooks(ServerCompliance config);
// labeler may be null: no annotation (labels off for the whole server); no watermark.
ResponseHooks compliance_hooks(std::shared_ptr<const compliance::ResponseLabeler> labeler);

}  // namespace autarky::server
