// Human (@vladmandic/human, TF.js wasm backend in Node) doing what
// BenchmarkCompareFaces does: decode two JPEGs, detect the faces, describe
// them (faceres embedding) and score the pair. Models come from the local
// model cache through file:// URLs; nothing touches the network.
//
// usage: node bench.mjs MODEL_DIR RUNS A.jpg B.jpg  -> one JSON line on stdout
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const [modelDir, runsArg, fileA, fileB] = process.argv.slice(2);
if (!fileB) {
  console.error('usage: node bench.mjs MODEL_DIR RUNS A.jpg B.jpg');
  process.exit(2);
}
const runs = Number(runsArg) || 20;

// Serve file:// URLs from disk (TF.js model and wasm loading use fetch);
// refuse everything else so a misconfiguration cannot reach the network.
const netFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const u = String(url instanceof URL ? url.href : url?.url ?? url);
  if (u.startsWith('file://')) {
    const b = fs.readFileSync(fileURLToPath(u));
    return new Response(b, { status: 200, headers: { 'content-type': u.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
  }
  if (process.env.BENCH_ALLOW_NET === '1') return netFetch(url, init);
  throw new Error(`bench-human: network access refused: ${u}`);
};

const jpeg = require('jpeg-js');
// By file path: the package's "exports" map lacks the "./" prefixes Node requires.
const H = require(path.join(here, 'node_modules/@vladmandic/human/dist/human.node-wasm.js'));
const Human = H.Human || H.default;
const wasmDir = path.join(here, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/');

const human = new Human({
  backend: 'wasm',
  wasmPath: pathToFileURL(wasmDir).href + '/',
  modelBasePath: pathToFileURL(path.resolve(modelDir)).href + '/',
  debug: false,
  async: false,
  warmup: 'none',
  cacheSensitivity: 0, // no result reuse between calls: every run computes
  filter: { enabled: false },
  face: {
    enabled: true,
    detector: { modelPath: 'facemesh-detection-short.json', rotation: false, maxDetected: 20, return: false },
    mesh: { enabled: false },
    iris: { enabled: false },
    attention: { enabled: false },
    description: { enabled: true, modelPath: 'faceres.json' },
    emotion: { enabled: false },
    antispoof: { enabled: false },
    liveness: { enabled: false },
  },
  body: { enabled: false },
  hand: { enabled: false },
  object: { enabled: false },
  gesture: { enabled: false },
  segmentation: { enabled: false },
});

const bytesA = fs.readFileSync(fileA);
const bytesB = fs.readFileSync(fileB);

function decode(bytes) {
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
  return human.tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
}

async function face(bytes) {
  const t = decode(bytes);
  const res = await human.detect(t);
  human.tf.dispose(t);
  // The largest face, as livenessd compares.
  const faces = res.face.slice().sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
  return { n: faces.length, emb: faces[0]?.embedding };
}

async function once() {
  const t0 = performance.now();
  const a = await face(bytesA);
  const t1 = performance.now();
  const b = await face(bytesB);
  const t2 = performance.now();
  const sim = a.emb && b.emb ? human.match.similarity(a.emb, b.emb) : 0;
  const t3 = performance.now();
  return { total: t3 - t0, a: t1 - t0, b: t2 - t1, faces: [a.n, b.n], sim };
}

await human.load();
await human.tf.ready();
for (let i = 0; i < 3; i++) await once(); // warm-up: kernels, weights
const totals = [];
const perImage = [];
let last;
for (let i = 0; i < runs; i++) {
  last = await once();
  totals.push(last.total);
  perImage.push(last.a, last.b);
}
const q = (xs, p) => { const s = xs.slice().sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
console.log(JSON.stringify({
  tool: 'human', version: human.version, tfjs: human.tf.version_core, backend: human.tf.getBackend(),
  threads: os.availableParallelism?.() ?? os.cpus().length, runs,
  median_ms: q(totals, 0.5), p90_ms: q(totals, 0.9), image_median_ms: q(perImage, 0.5),
  faces: last.faces, similarity: last.sim,
}));
