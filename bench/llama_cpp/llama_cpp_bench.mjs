// llama.cpp's pp / tg on a GGUF, measured here, for the side-by-side table of issue 5.
//
// node-llama-cpp (npm) ships llama.cpp's CPU backend prebuilt in per-CPU variants (it loads the
// one for this CPU, e.g. libggml-cpu-zen4.so) with its default settings: CPU_REPACK weights,
// flash attention "auto", f16 KV cache. pp N: N random tokens evaluated in one batch of <= 512
// (llama-bench's pp); tg N: N tokens decoded one by one after a single token, each sampled
// greedily (llama-bench does not sample; greedy sampling over the vocabulary costs well under 1%
// of a step here). With a depth D, D random tokens are evaluated first and left in the context.
//
// usage: node llama_cpp_bench.mjs MODEL [N_PROMPT=512] [N_GEN=128] [REPETITIONS=3] [DEPTH=0]
// environment: THREADS (default 2). Prints one JSON object: medians and every run.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [modelPath, nPrompt = "512", nGen = "128", reps = "3", depth = "0"] = process.argv.slice(2);
if (!modelPath) {
  console.error("usage: node llama_cpp_bench.mjs MODEL [N_PROMPT] [N_GEN] [REPETITIONS] [DEPTH]");
  process.exit(2);
}
const threads = Number(process.env.THREADS ?? 2);
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.warn, maxThreads: threads});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const context = await model.createContext({
  contextSize: Math.max(1024, +depth + Math.max(+nPrompt, +nGen) + 16), batchSize: 512, threads, sequences: 1,
});
const sequence = context.getSequence();

let seed = 1234;  // random token ids in [100, 30100), away from the special ones (vocab >= 32000)
const nextRandom = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
const randomTokens = (n) => Array.from({length: n}, () => 100 + (nextRandom() % 30000));
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function fillDepth() {
  await sequence.clearHistory();
  if (+depth > 0) await sequence.evaluateWithoutGeneratingNewTokens(randomTokens(+depth));
}

const pp = [], tg = [];
for (let run = 0; run <= +reps; ++run) {  // run 0 is a warm-up
  if (+nPrompt > 0) {
    await fillDepth();
    const t0 = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(randomTokens(+nPrompt));
    if (run > 0) pp.push(+nPrompt / ((performance.now() - t0) / 1000));
  }
  if (+nGen > 0) {
    await fillDepth();
    let n = 0;
    const t0 = performance.now();
    for await (const token of sequence.evaluate(randomTokens(1), {temperature: 0})) {
      void token;
      if (++n >= +nGen) break;
    }
    if (run > 0) tg.push(n / ((performance.now() - t0) / 1000));
  }
}
console.log(JSON.stringify({
  model: modelPath.split("/").pop(), threads, depth: +depth,
  pp: pp.length ? median(pp) : null, tg: tg.length ? median(tg) : null, pp_runs: pp, tg_runs: tg,
}));
process.exit(0);
