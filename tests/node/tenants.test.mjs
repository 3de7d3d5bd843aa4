// `autarky serve --require-key --db LEDGER`: keys made with `autarky keys create`, 401 without a
// valid key, 429 + Retry-After when a quota is used up, and usage that survives kill -9 and a
// restart on the same ledger.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { cli, startServer, modelId } from './harness.mjs';

const dir = mkdtempSync(join(tmpdir(), 'autarky-tenants-'));
const db = join(dir, 'ledger.db');

function createKey(name, ...limits) {
  const out = execFileSync(cli, ['keys', 'create', '--db', db, '--name', name, '--json', ...limits], { encoding: 'utf8' });
  return JSON.parse(out);
}

function usageOf(id) {
  const out = execFileSync(cli, ['keys', 'usage', '--db', db, id, '--json'], { encoding: 'utf8' });
  return JSON.parse(out)[0];
}

let server;
let budget;  // 100 tokens a day
let paced;   // 2 requests a minute

before(async () => {
  budget = createKey('budget', '--tokens-per-day', '100');
  paced = createKey('paced', '--rpm', '2');
  server = await startServer(['--require-key', '--db', db]);
});

after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ask = (client, max_tokens = 10) =>
  client.completions.create({ model: modelId, prompt: 'Once upon a time', max_tokens, temperature: 0, ignore_eos: true });

test('no key or a wrong key is a 401', async () => {
  // No Authorization header at all (the SDK always sends one).
  const bare = await fetch(`${server.baseURL}/v1/completions`, {
    method: 'POST', body: JSON.stringify({ model: modelId, prompt: 'x', max_tokens: 1 }),
  });
  assert.equal(bare.status, 401);
  assert.equal((await bare.json()).error.code, 'invalid_api_key');
  await assert.rejects(ask(server.client('ak-000000000000-' + '0'.repeat(64))), OpenAI.AuthenticationError);
  await assert.rejects(ask(server.client(budget.secret + 'x')), OpenAI.AuthenticationError);
  await assert.rejects(server.client('nope').models.list(), OpenAI.AuthenticationError);
  const models = await server.client(budget.secret).models.list();
  assert.equal(models.data[0].id, modelId);
});

test('requests per minute: the third is a 429 with Retry-After', async () => {
  const client = server.client(paced.secret);
  await ask(client, 2);
  await ask(client, 2);
  await assert.rejects(ask(client, 2), (err) => {
    assert.ok(err instanceof OpenAI.RateLimitError, String(err));
    assert.equal(err.status, 429);
    const retry = Number(err.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    return true;
  });
});

test('a used-up daily budget is a 429 until tomorrow, also after kill -9 and a restart', async () => {
  const client = server.client(budget.secret);
  let spent = 0;
  let refused = null;
  for (let i = 0; i < 20 && refused === null; ++i) {
    try {
      const r = await ask(client, 10);
      spent += r.usage.total_tokens;
    } catch (err) {
      refused = err;
    }
  }
  assert.ok(refused instanceof OpenAI.RateLimitError, String(refused));
  assert.ok(spent >= 100, `refused after ${spent} tokens`);
  const retry = Number(refused.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 86400, `Retry-After ${retry}`);

  // The ledger has every answered request, even with the server killed without a chance to flush.
  server.child.kill('SIGKILL');
  await new Promise((res) => server.child.on('exit', res));
  const usage = usageOf(budget.id);
  assert.equal(usage.today.total_tokens, spent);

  server = await startServer(['--require-key', '--db', db]);
  await assert.rejects(ask(server.client(budget.secret)), OpenAI.RateLimitError);
  assert.equal(usageOf(budget.id).today.total_tokens, spent);
});
