// Limits of one small server (1 slot, no queue): prompts longer than the context, max_tokens
// past the context, and 503 + Retry-After when every slot and queue place is taken.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, modelId, tokenCount, eventually, metric, metricsText } from './harness.mjs';

let server;
let client;
const contextSize = 256;

before(async () => {
  server = await startServer(['--slots', '1', '--max-queue', '0', '--ctx', String(contextSize)]);
  client = server.client();
});

after(async () => {
  await server.stop();
});

test('a prompt longer than the context is a 400', async () => {
  const prompt = 'Once upon a time there was a dog. '.repeat(40);
  assert.ok(tokenCount(prompt) > contextSize);
  await assert.rejects(client.completions.create({ model: modelId, prompt, max_tokens: 4 }), (err) => {
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.equal(err.code, 'context_length_exceeded');
    assert.equal(err.param, 'prompt');
    return true;
  });
});

test('max_tokens past the context stops at the context with "length"', async () => {
  const prompt = 'Once upon a time';
  const r = await client.completions.create({ model: modelId, prompt, max_tokens: 100000, temperature: 0, ignore_eos: true });
  assert.equal(r.usage.prompt_tokens, tokenCount(prompt));
  assert.equal(r.usage.prompt_tokens + r.usage.completion_tokens, contextSize);
  assert.equal(r.choices[0].finish_reason, 'length');
});

test('all slots and queue places taken: 503 with Retry-After, then served again', async () => {
  const controller = new AbortController();
  const busy = await client.completions.create(
    { model: modelId, prompt: 'Once upon a time', max_tokens: 100000, ignore_eos: true, stream: true },
    { signal: controller.signal },
  );
  const iterator = busy[Symbol.asyncIterator]();
  await iterator.next();  // the request holds the only slot now
  const refused = await fetch(`${server.baseURL}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: modelId, prompt: 'Hello', max_tokens: 2 }),
  });
  assert.equal(refused.status, 503);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.equal((await refused.json()).error.code, 'overloaded');
  controller.abort();
  await iterator.next().catch(() => {});
  await eventually(async () => metric(await metricsText(server.baseURL), 'autarky_active_requests') === 0);
  const r = await client.completions.create({ model: modelId, prompt: 'Hello', max_tokens: 2, temperature: 0 });
  assert.equal(r.usage.completion_tokens, 2);
});
