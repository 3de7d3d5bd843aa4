// Label and watermark policies per API key through the real `autarky serve --require-key` and the
// official SDK: keys made with `autarky keys create --label ... --watermark ...` get their own
// explicit label (whole and streamed answers), keep the implicit label, are watermarked only when
// their policy says so (`--watermark-default off` on the server), and `autarky keys policy`
// changes a key's label for its next request, without a restart.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, modelPath, startServer, modelId } from './harness.mjs';

const dir = mkdtempSync(join(tmpdir(), 'autarky-key-policy-'));
const db = join(dir, 'ledger.db');
const key = join(dir, 'provider.key');
const zh = '\n人工智能生成';
let server;
const clients = {};
const ids = {};

function createKey(name, ...policy) {
  const out = execFileSync(cli, ['keys', 'create', '--db', db, '--name', name, '--json', ...policy],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out);
}

before(async () => {
  execFileSync(cli, ['keygen', '--out', key]);
  const keys = {
    marked: createKey('marked', '--label', 'end', '--label-lang', 'zh', '--watermark', 'on'),
    bare: createKey('bare', '--label', 'off'),
    inherits: createKey('inherits'),
  };
  server = await startServer(['--require-key', '--db', db, '--label-key', key, '--watermark-key', key,
    '--watermark-default', 'off']);
  for (const [name, k] of Object.entries(keys)) {
    clients[name] = server.client(k.secret);
    ids[name] = k.id;
  }
});

after(async () => {
  assert.equal(await server.stop(), 0);
  rmSync(dir, { recursive: true, force: true });
});

async function streamed(client, request) {
  const stream = await client.completions.create({ model: modelId, ...request, stream: true });
  let text = '';
  let aigc = null;
  for await (const chunk of stream) {
    if (!chunk.choices.length) continue;
    text += chunk.choices[0].text;
    if (chunk.aigc) aigc = chunk.aigc;
  }
  return { text, aigc };
}

function detect(text, name) {
  const file = join(dir, name);
  writeFileSync(file, text);
  return JSON.parse(execFileSync(cli, ['detect', '-m', modelPath, '--key', key, '--json', file], { encoding: 'utf8' }));
}

test('each key gets its own explicit label; the implicit label stays on', async () => {
  const messages = [{ role: 'user', content: 'Tell me a story.' }];
  const ask = (client) => client.chat.completions
    .create({ model: modelId, messages, max_tokens: 12, temperature: 0 })
    .withResponse();
  const marked = await ask(clients.marked);
  const bare = await ask(clients.bare);
  const inherits = await ask(clients.inherits);
  const text = (r) => r.data.choices[0].message.content;
  assert.ok(text(marked).endsWith(zh), JSON.stringify(text(marked)));
  assert.ok(!/AI-generated|人工智能生成/.test(text(bare)), JSON.stringify(text(bare)));
  assert.equal(text(inherits), 'AI-generated\n' + text(bare));
  for (const r of [marked, bare, inherits]) {
    assert.equal(r.data.aigc.Label, '1');
    assert.match(r.data.aigc.ReservedCode1, /^autarky1:/);
    assert.deepEqual(JSON.parse(r.response.headers.get('aigc-label')), r.data.aigc);
  }
});

test('streamed answers follow the key policy too', async () => {
  const request = { prompt: 'Once upon a time', max_tokens: 12, temperature: 0 };
  const marked = await streamed(clients.marked, request);
  const bare = await streamed(clients.bare, request);
  assert.ok(marked.text.endsWith(zh), JSON.stringify(marked.text));
  assert.ok(!bare.text.includes('AI-generated'), JSON.stringify(bare.text));
  assert.equal(marked.aigc.Label, '1');
  assert.equal(bare.aigc.Label, '1');
});

test('only the key whose policy turns it on is watermarked', async () => {
  const request = {
    model: modelId, prompt: 'Once upon a time', max_tokens: 250, temperature: 0.8, seed: 5, ignore_eos: true,
  };
  const marked = await clients.marked.completions.create(request);
  const plain = await streamed(clients.inherits, request);  // --watermark-default off
  const on = detect(marked.choices[0].text.slice(0, -zh.length), 'marked.txt');
  const off = detect(plain.text.slice('AI-generated\n'.length), 'plain.txt');
  assert.equal(on.watermarked, true, JSON.stringify(on));
  assert.equal(off.watermarked, false, JSON.stringify(off));
});

test('keys policy changes the label of the next request without a restart', async () => {
  execFileSync(cli, ['keys', 'policy', '--db', db, ids.bare, '--label', 'start', '--label-lang', 'zh'],
    { stdio: 'ignore' });
  const r = await clients.bare.completions.create({ model: modelId, prompt: 'The dog', max_tokens: 6, temperature: 0 });
  assert.ok(r.choices[0].text.startsWith('人工智能生成\n'), JSON.stringify(r.choices[0].text));
});
