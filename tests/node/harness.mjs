// Starts a real `autarky serve` on a free loopback port for the SDK tests, and a few helpers.
// The binary and model come from the environment (set by the CTest entry):
//   AUTARKY_CLI=build/release/autarky AUTARKY_MODEL=models/stories260K.gguf node --test tests/node

import { spawn, execFileSync } from 'node:child_process';
import OpenAI from 'openai';

export const cli = process.env.AUTARKY_CLI;
export const modelPath = process.env.AUTARKY_MODEL;
if (!cli || !modelPath) throw new Error('set AUTARKY_CLI and AUTARKY_MODEL (the CTest entry does)');
export const modelId = modelPath.split('/').pop().replace(/\.gguf$/, '');

// Resolves once /health says the model is loaded. `extraArgs` go to `autarky serve`.
export async function startServer(extraArgs = []) {
  const child = spawn(cli, ['serve', '-m', modelPath, '--port', '0', '-t', '1', ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 30000);
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${stderr}`)));
  });
  const baseURL = `http://127.0.0.1:${port}`;
  for (let i = 0; ; ++i) {
    const r = await fetch(`${baseURL}/health`).catch(() => null);
    if (r && r.status === 200) break;
    if (i > 300) throw new Error(`server never became healthy:\n${stderr}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  return {
    child,
    port,
    baseURL,
    stderr: () => stderr,
    client: (apiKey = 'none') => new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0, timeout: 60000 }),
    // SIGTERM; resolves to the exit code. Under ASan/UBSan a report in the server's stderr
    // (memory error, undefined behaviour, leak at exit) fails the test that stops the server.
    async stop() {
      let code = child.exitCode;
      if (code === null) {
        const exited = new Promise((res) => child.on('exit', (c, signal) => res(c ?? signal)));
        child.kill('SIGTERM');
        code = await exited;
      }
      if (/ERROR: (Address|Leak)Sanitizer|runtime error:/.test(stderr)) throw new Error(`sanitizer report:\n${stderr}`);
      return code;
    },
  };
}

// Token count of `text` by the model's own tokenizer (`autarky tokenize` prints one id a line).
export function tokenCount(text) {
  const out = execFileSync(cli, ['tokenize', '-m', modelPath, text], { encoding: 'utf8' });
  return out.split('\n').filter((l) => /^\s*\d+\s/.test(l)).length;
}

// The value of a Prometheus sample line, e.g. metric(text, 'autarky_active_requests').
export function metric(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

export async function metricsText(baseURL) {
  return (await fetch(`${baseURL}/metrics`)).text();
}

// Polls `check` until it returns true (or throws after `ms`).
export async function eventually(check, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((res) => setTimeout(res, 50));
  }
}
