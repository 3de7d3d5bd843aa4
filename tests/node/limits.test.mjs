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
  // The busy stream runs to the end of the context in milliseconds on this tiny model, so the
  // second request may arrive after it has ended: then it is served, the busy stream must have
  // ended on its own ("length"), and we try again. A 503 must be seen while the slot is taken.
  let refused = null;
  for (let attempt = 0; attempt < 20 && refused === null; ++attempt) {
    const controller = new AbortController();
    const busy = await client.completions.create(
      { model: modelId, prompt: 'Once upon a time', max_tokens: 100000, ignore_eos: true, stream: true },
      { signal: controller.signal },
    );
    const iterator = busy[Symbol.asyncIterator]();
    const first = await iterator.next();  // the request holds the only slot now (unless it has already ended)
    const response = await fetch(`${server.baseURL}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: modelId, prompt: 'Hello', max_tokens: 2 }),
    });
    if (response.status === 503) {
      refused = response;
      controller.abort();
      await iterator.next().catch(() => {});
      break;
    }
    assert.equal(response.status, 200);
    await response.json();
    let finish = first.done ? null : (first.value.choices[0]?.finish_reason ?? null);
    for (let chunk = await iterator.next(); !chunk.done; chunk = await iterator.next()) {
      finish = chunk.value.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'length', 'a second request was served while the only slot was taken');
  }
  assert.ok(refused !== null, 'the only slot was never seen taken');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.equal((await refused.json()).error.code, 'overloaded');
  await eventually(async () => metric(await metricsText(server.baseURL), 'autarky_active_requests') === 0);
  const r = await client.completions.create({ model: modelId, prompt: 'Hello', max_tokens: 2, temperature: 0 });
  assert.equal(r.usage.completion_tokens, 2);
});
