// The official OpenAI Node.js SDK against a real `autarky serve` with the bundled model:
// completions and chat, streaming, usage, stop strings, logprobs, errors, concurrency, and
// clients that go away mid-stream or before a whole response.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, modelId, tokenCount, metric, metricsText, eventually } from './harness.mjs';

let server;
let client;

before(async () => {
  // --label off: these tests compare texts exactly; labels are tested in compliance.test.mjs.
  server = await startServer(['--slots', '4', '--max-queue', '8', '--label', 'off']);
  client = server.client();
});

after(async () => {
  assert.equal(await server.stop(), 0, 'the server shuts down cleanly on SIGTERM');
});

test('health and model list', async () => {
  const health = await fetch(`${server.baseURL}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), [modelId]);
});

test('completion: usage counts are the tokenizer counts', async () => {
  const prompt = 'Once upon a time, there was a little dog';
  const r = await client.completions.create({
    model: modelId, prompt, max_tokens: 24, temperature: 0, logprobs: 2,
  });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices.length, 1);
  const choice = r.choices[0];
  assert.equal(r.usage.prompt_tokens, tokenCount(prompt), 'prompt tokens = `autarky tokenize` count (with BOS)');
  // One logprobs entry per generated token; their pieces are the text.
  assert.equal(choice.logprobs.tokens.length, r.usage.completion_tokens);
  assert.equal(choice.logprobs.tokens.join(''), choice.text);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.ok(r.usage.completion_tokens <= 24);
  assert.equal(choice.finish_reason, r.usage.completion_tokens === 24 ? 'length' : 'stop');
  for (const [i, lp] of choice.logprobs.token_logprobs.entries()) {
    assert.ok(lp <= 0, 'a log-probability is at most 0');
    const top = choice.logprobs.top_logprobs[i];
    assert.equal(Object.keys(top).length <= 2, true);
    // Greedy: the chosen token is the most likely one.
    assert.equal(Math.max(...Object.values(top)), lp);
  }
});

test('chat: same seed, same answer; echo and max_completion_tokens', async () => {
  const ask = (seed) => client.chat.completions.create({
    model: modelId, messages: [{ role: 'user', content: 'Tell me a story about a cat.' }],
    max_completion_tokens: 16, temperature: 0.9, seed,
  });
  const [a, b] = [await ask(7), await ask(7)];
  assert.equal(a.object, 'chat.completion');
  assert.equal(a.choices[0].message.role, 'assistant');
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  assert.ok(a.choices[0].message.content.length > 0);
  assert.ok(a.usage.completion_tokens <= 16 && a.usage.completion_tokens > 0);
  assert.equal(a.usage.prompt_tokens, b.usage.prompt_tokens);

  const echoed = await client.completions.create({ model: modelId, prompt: 'Once upon', max_tokens: 4, temperature: 0, echo: true });
  assert.ok(echoed.choices[0].text.startsWith('Once upon'));
});

test('streaming chat with include_usage equals the non-streamed answer', async () => {
  const request = {
    model: modelId, messages: [{ role: 'system', content: 'You tell stories.' }, { role: 'user', content: 'Hello!' }],
    max_tokens: 40, temperature: 0,
  };
  const whole = await client.chat.completions.create(request);
  const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let chunks = 0;
  let finish = null;
  let usage = null;
  let sawRole = false;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(chunk.id, chunk.id);
    if (chunk.usage) {
      assert.equal(chunk.choices.length, 0, 'the usage chunk has no choices');
      usage = chunk.usage;
      continue;
    }
    assert.equal(usage, null, 'usage comes last');
    const c = chunk.choices[0];
    if (chunks === 0) sawRole = c.delta.role === 'assistant';
    text += c.delta.content ?? '';
    if (c.finish_reason) finish = c.finish_reason;
    ++chunks;
  }
  assert.ok(sawRole, 'the first chunk carries the role');
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.deepEqual(usage, whole.usage);
  assert.ok(chunks >= 3);
});

test('stop strings end the text before them', async () => {
  const base = { model: modelId, prompt: 'Once upon a time', max_tokens: 40, temperature: 0 };
  const full = (await client.completions.create(base)).choices[0].text;
  // A word from the middle of the greedy continuation becomes the stop string.
  const words = full.split(' ').filter((w) => w.length >= 3);
  assert.ok(words.length >= 2, `not enough words in ${JSON.stringify(full)}`);
  const stop = words[1];
  const cut = await client.completions.create({ ...base, stop: [stop, 'zzzz'] });
  assert.equal(cut.choices[0].text, full.slice(0, full.indexOf(stop)));
  assert.equal(cut.choices[0].finish_reason, 'stop');
});

test('bad requests are OpenAI errors with the right status', async () => {
  const chat = { model: modelId, messages: [{ role: 'user', content: 'hi' }] };
  const cases = [
    [{ ...chat, temperature: 5 }, 400, 'temperature'],
    [{ ...chat, n: 2 }, 400, 'n'],
    [{ ...chat, top_p: 'high' }, 400, 'top_p'],
    [{ ...chat, messages: [] }, 400, 'messages'],
    [{ ...chat, model: 'gpt-4o' }, 400, 'model'],
  ];
  for (const [body, status, param] of cases) {
    await assert.rejects(client.chat.completions.create(body), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, `${JSON.stringify(body)} -> ${err}`);
      assert.equal(err.status, status);
      assert.equal(err.param, param);
      assert.equal(err.type, 'invalid_request_error');
      return true;
    });
  }
  // Malformed JSON and unknown routes, below the SDK.
  const bad = await fetch(`${server.baseURL}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": ',
  });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code, 'invalid_json');
  const missing = await fetch(`${server.baseURL}/v1/embeddings`, { method: 'POST', body: '{}' });
  assert.equal(missing.status, 404);
  assert.equal(typeof (await missing.json()).error.message, 'string');
  const huge = await fetch(`${server.baseURL}/v1/completions`, {
    method: 'POST', body: JSON.stringify({ model: modelId, prompt: 'x'.repeat(5 << 20) }),
  });
  assert.equal(huge.status, 413);
  assert.equal((await huge.json()).error.code, 'request_too_large');
});

test('parallel requests are all answered, each as if alone', async () => {
  const ask = (seed) => client.completions.create({
    model: modelId, prompt: `Once upon a time ${seed}`, max_tokens: 20, temperature: 0.8, seed,
  });
  const seeds = [1, 2, 3, 4, 5, 6];
  const parallel = await Promise.all(seeds.map(ask));
  for (const [i, seed] of seeds.entries()) {
    const alone = await ask(seed);
    assert.equal(parallel[i].choices[0].text, alone.choices[0].text, `seed ${seed}`);
    assert.deepEqual(parallel[i].usage, alone.usage);
  }
  const metrics = await metricsText(server.baseURL);
  assert.ok(metric(metrics, 'autarky_http_requests_total{route="/v1/completions",status="200"}') >= 12);
  assert.ok(metric(metrics, 'autarky_completion_tokens_total') > 0);
  assert.match(metrics, /autarky_request_duration_seconds_bucket\{route="\/v1\/completions",le="\+Inf"\} \d+/);
});

test('a client that disconnects mid-stream frees its slot', async () => {
  const before = metric(await metricsText(server.baseURL), 'autarky_requests_cancelled_total');
  const controller = new AbortController();
  const stream = await client.completions.create(
    { model: modelId, prompt: 'Once upon a time', max_tokens: 100000, temperature: 1, ignore_eos: true, stream: true },
    { signal: controller.signal },
  );
  let received = 0;
  try {
    for await (const chunk of stream) {
      received += chunk.choices[0]?.text?.length ?? 0;
      if (received > 20) controller.abort();
    }
  } catch (err) {
    // Depending on timing the SDK ends the iteration or throws its abort error.
    if (!(err instanceof OpenAI.APIUserAbortError || err.name === 'AbortError')) throw err;
  }
  assert.ok(controller.signal.aborted && received > 20);
  await eventually(async () => {
    const m = await metricsText(server.baseURL);
    return metric(m, 'autarky_requests_cancelled_total') === before + 1 && metric(m, 'autarky_active_requests') === 0;
  });
  // The server still answers normally afterwards.
  const r = await client.completions.create({ model: modelId, prompt: 'Once', max_tokens: 3, temperature: 0 });
  assert.equal(r.usage.completion_tokens, 3);
});

test('a client that gives up on a non-streaming request frees its slot', async () => {
  // Nothing is written to a non-streaming client before the end, so the server must notice the
  // closed connection itself. Uncancelled, this request would run to the end of the context
  // (2048 tokens, seconds); the client leaves after 200 ms.
  const before = await metricsText(server.baseURL);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 200);
  await assert.rejects(
    client.completions.create(
      { model: modelId, prompt: 'Once upon a time', max_tokens: 100000, temperature: 1, ignore_eos: true },
      { signal: controller.signal, maxRetries: 0 },
    ),
    (err) => err instanceof OpenAI.APIUserAbortError || err.name === 'AbortError',
  );
  clearTimeout(timer);
  const status499 = 'autarky_http_requests_total{route="/v1/completions",status="499"}';
  await eventually(async () => {
    const m = await metricsText(server.baseURL);
    return metric(m, 'autarky_requests_cancelled_total') === metric(before, 'autarky_requests_cancelled_total') + 1 &&
      metric(m, 'autarky_active_requests') === 0 && (metric(m, status499) ?? 0) === (metric(before, status499) ?? 0) + 1;
  });
  const r = await client.completions.create({ model: modelId, prompt: 'Once', max_tokens: 3, temperature: 0 });
  assert.equal(r.usage.completion_tokens, 3);
});
