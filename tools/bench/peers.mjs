// Times the peer runtimes for one block of scripts/bench.sh on the inputs
// the Go tests wrote: TF.js with the wasm backend for the TF.js graph models
// and onnxruntime-web (wasm) for the native ONNX models, batch 1, after a
// warm-up, N timed runs each. Prints one JSON line per model:
//   {"model", "peer", "threads", "median_ms", "min_ms", "runs"}
//
// usage: node peers.mjs <tfjs inputs dir> <native inputs dir> <runs> <threads>
//
// TF.js-wasm runs single-threaded in Node (its threaded build needs browser
// workers), so it is only timed in the 1-thread block. onnxruntime-web fixes
// its thread count when the wasm module initialises: it runs in a child
// process per block.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths, setThreadsCount, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import * as ort from 'onnxruntime-web';
import { fileHandler } from '../golden/handler.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const WARMUP = 5;

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
  ms.sort((a, b) => a - b);
  const m = ms.length >> 1;
  return { median_ms: ms.length % 2 ? ms[m] : (ms[m - 1] + ms[m]) / 2, min_ms: ms[0], runs };
}

async function benchTFJS(dir, runs) {
  setWasmPaths(path.join(here, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep);
  setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).filter((e) => e.case === 'face');
  for (const e of manifest) {
    // A weights-only manifest (face-api.js's FaceRecognitionNet, which the
    // Go side builds as a graph itself) is not a graph model TF.js can
    // load: it has no peer here.
    if (!JSON.parse(fs.readFileSync(e.json, 'utf8')).modelTopology) {
      console.error(`peers: ${e.model}: weights-only manifest, no TF.js graph peer`);
      continue;
    }
    const model = await loadGraphModel(fileHandler(e.json));
    const input = tf.tensor(readF32(path.join(dir, e.file)), e.shape, 'float32');
    const t = await time(runs, async () => {
      let outs = model.execute(input, e.outputs);
      if (!Array.isArray(outs)) outs = [outs];
      for (const o of outs) await o.data();
      tf.dispose(outs);
    });
    console.log(JSON.stringify({ model: e.model, peer: `tfjs-backend-wasm ${tf.version_core}`, threads: getThreadsCount(), ...t }));
    tf.dispose(input);
    model.dispose();
  }
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
    const t = await time(runs, async () => {
      const out = await session.run(feeds);
      for (const v of Object.values(out)) v.dispose?.();
    });
    console.log(JSON.stringify({ model: e.model, peer: `onnxruntime-web ${ort.env.versions.web} (wasm)`, threads, ...t }));
    await session.release();
  }
}

async function main() {
  if (process.argv[2] === '--ort-child') {
    await ortChild(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
    return;
  }
  const [tfjsDir, nativeDir, runsArg, threadsArg] = process.argv.slice(2);
  if (!tfjsDir || !nativeDir || !runsArg || !threadsArg) {
    throw new Error('usage: node peers.mjs <tfjs inputs dir> <native inputs dir> <runs> <threads>');
  }
  const runs = Number(runsArg);
  const threads = Number(threadsArg);
  if (threads === 1) await benchTFJS(tfjsDir, runs);
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--ort-child', nativeDir, String(runs), String(threads)], { encoding: 'utf8' });
  process.stdout.write(out.split('\n').filter((l) => l.startsWith('{')).map((l) => `${l}\n`).join(''));
}

main().catch((err) => { console.error(err); process.exit(1); });
