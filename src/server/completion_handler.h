#pragma once
// POST /v1/chat/completions and /v1/completions: admission, parsing, preparation, then one
// request on the Scheduler, answered as one JSON body or as a stream of SSE chunks.
//
// Streams: the scheduler's callbacks (its thread) only append text to the request's
// CompletionChannel; the HTTP worker thread turns it into chunks and writes them. A write that
// fails (the client went away) cancels the request, so its slot is free at the next step. While
// nothing is produced (queued, long prefill) an SSE comment is sent every second: it is what
// notices a vanished client before the request even starts.

#include "server/access.h"
#include "server/completion_service.h"
#include "server/metrics.h"
#include "server/openai_request.h"
#include "server/response_hook.h"

namespace httplib {
class Request;
class Response;
}  // namespace httplib

namespace autarky::server {

struct CompletionContext {
  CompletionService& service;
  AccessPolicy& access;
  const ResponseHooks& hooks;
  ServerMetrics& metrics;
  const RequestLimits& limits;
};

// Fills `res` (status, headers, body or chunked provider) and counts the request in the metrics
// (a stream when it ends). Never throws for anything a client sends.
void handle_completion_request(const CompletionContext& ctx, ApiRoute route, const httplib::Request& req,
                               httplib::Response& res);

}  // namespace autarky::server
