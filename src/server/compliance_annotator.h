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

#include <memory>

#include "compliance/response_labeler.h"
#include "server/response_hook.h"

namespace autarky::server {

// labeler may be null: no annotation (labels off for the whole server).
ResponseHooks compliance_hooks(std::shared_ptr<const compliance::ResponseLabeler> labeler);

}  // namespace autarky::server
