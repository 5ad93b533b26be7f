// Times the peer runtimes on the inputs scripts/bench.sh had the Go tests
// write: TF.js with the wasm backend for the TF.js graph models and
// onnxruntime-web (wasm) for the native ONNX models, batch 1, after a
// warm-up, median of N runs. Prints one JSON line per model:
//   {"model": ..., "peer": ..., "median_ms": ..., "threads": ...}
//
// usage: node peers.mjs <tfjs inputs dir> <native inputs dir> [runs]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths, setThreadsCount, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import * as ort from 'onnxruntime-web';
import { fileHandler } from '../golden/handler.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const WARMUP = 5;
// TF.js wasm in Node runs single-threaded (its threaded build needs browser
// workers); onnxruntime-web is timed with 1 and 2 threads and the faster
// setting is reported, so the peer gets its best configuration.
const ORT_THREADS = [1, 2];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function readF32(file) {
  const raw = fs.readFileSync(file);
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

async function time(runs, fn) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

async function benchTFJS(dir, runs) {
  setWasmPaths(path.join(here, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep);
  setThreadsCount(2);
  await tf.setBackend('wasm');
  await tf.ready();
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).filter((e) => e.case === 'face');
  for (const e of manifest) {
    const model = await loadGraphModel(fileHandler(e.json));
    const input = tf.tensor(readF32(path.join(dir, e.file)), e.shape, 'float32');
    const ms = await time(runs, async () => {
      let outs = model.execute(input, e.outputs);
      if (!Array.isArray(outs)) outs = [outs];
      for (const o of outs) await o.data();
      tf.dispose(outs);
    });
    console.log(JSON.stringify({ model: e.model, peer: `tfjs-backend-wasm ${tf.version_core}`, median_ms: ms, threads: getThreadsCount() }));
    tf.dispose(input);
    model.dispose();
  }
}

async function benchORT(dir, runs) {
  ort.env.wasm.wasmPaths = path.join(here, 'node_modules/onnxruntime-web/dist') + path.sep;
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'native.json'), 'utf8'));
  const best = new Map();
  // numThreads is fixed when the wasm module initialises: one child process per setting.
  for (const threads of ORT_THREADS) {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--ort-child', dir, String(runs), String(threads)], { encoding: 'utf8' });
    for (const line of out.split('\n').filter((l) => l.startsWith('{'))) {
      const r = JSON.parse(line);
      if (!best.has(r.model) || r.median_ms < best.get(r.model).median_ms) best.set(r.model, r);
    }
  }
  for (const e of manifest) console.log(JSON.stringify(best.get(e.model)));
}

async function ortChild(dir, runs, threads) {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = path.join(here, 'node_modules/onnxruntime-web/dist') + path.sep;
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'native.json'), 'utf8'));
  for (const e of manifest) {
    const session = await ort.InferenceSession.create(fs.readFileSync(e.onnx), {
      executionProviders: ['wasm'], graphOptimizationLevel: 'all',
    });
    const feeds = { [e.input]: new ort.Tensor('float32', readF32(path.join(dir, e.file)), e.shape) };
    const ms = await time(runs, async () => {
      const out = await session.run(feeds);
      for (const v of Object.values(out)) v.dispose?.();
    });
    console.log(JSON.stringify({ model: e.model, peer: `onnxruntime-web ${ort.env.versions.web} (wasm)`, median_ms: ms, threads }));
    await session.release();
  }
}

async function main() {
  if (process.argv[2] === '--ort-child') {
    await ortChild(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
    return;
  }
  const [tfjsDir, nativeDir, runsArg] = process.argv.slice(2);
  if (!tfjsDir || !nativeDir) throw new Error('usage: node peers.mjs <tfjs inputs dir> <native inputs dir> [runs]');
  const runs = Number(runsArg || 30);
  await benchTFJS(tfjsDir, runs);
  await benchORT(nativeDir, runs);
}

main().catch((err) => { console.error(err); process.exit(1); });
