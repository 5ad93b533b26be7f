// Runs each TF.js graph model with the pinned TF.js CPU backend on the input
// tensors written by the Go test (TestWriteGoldenInputs), and face-api.js's
// FaceRecognitionNet with the pinned face-api package, and writes compact
// golden outputs for internal/infer/tfjs (see scripts/golden.sh).
//
// usage: node golden.mjs <inputs dir with manifest.json> <output dir>
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { createRequire } from 'node:module';
import { fileHandler } from './handler.mjs';

const require = createRequire(import.meta.url);

const MAX_VALUES = 1024; // values kept per output; larger outputs are strided

function summarise(name, t, maxValues = MAX_VALUES) {
  const data = t.dataSync();
  const stride = Math.max(1, Math.ceil(data.length / maxValues));
  let sum = 0;
  let absSum = 0;
  for (const v of data) { sum += v; absSum += Math.abs(v); }
  const values = [];
  for (let i = 0; i < data.length; i += stride) values.push(data[i]);
  return { name, shape: t.shape, sum, absSum, stride, values };
}

function readInput(inDir, e) {
  const raw = fs.readFileSync(path.join(inDir, e.file));
  const sha = crypto.createHash('sha256').update(raw).digest('hex');
  if (sha !== e.sha256) throw new Error(`${e.file}: sha256 mismatch`);
  return { sha, data: new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) };
}

// face-api.js's FaceRecognitionNet, run by the pinned package's own code
// (weights-only manifest, graph built in JavaScript) on raw 0..255 pixels,
// as computeFaceDescriptor takes a face crop.
async function faceAPIGolden(model, entries, inDir, outDir) {
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const ftf = faceapi.tf;
  await ftf.setBackend('cpu');
  await ftf.ready();
  const net = faceapi.nets.faceRecognitionNet;
  await net.loadFromDisk(path.dirname(entries[0].json));
  const cases = [];
  for (const e of entries) {
    const { sha, data } = readInput(inDir, e);
    const input = ftf.tensor3d(data, e.shape, 'float32');
    const d = await net.computeFaceDescriptor(input);
    const t = ftf.tensor2d(d, [1, d.length]);
    cases.push({ case: e.case, inputSha256: sha, outputs: [summarise(e.outputs[0], t, d.length)] });
    ftf.dispose([input, t]);
  }
  const golden = { model, tfjs: `face-api ${faceapi.version}, tfjs-core ${ftf.version_core}, backend cpu`, outputNodes: entries[0].outputs, cases };
  fs.writeFileSync(path.join(outDir, `${model}.json`), JSON.stringify(golden) + '\n');
  console.log(`${model}: ${cases.length} cases (face-api.js ${faceapi.version})`);
}

async function main() {
  const [inDir, outDir] = process.argv.slice(2);
  if (!inDir || !outDir) throw new Error('usage: node golden.mjs <inputs dir> <output dir>');
  await tf.setBackend('cpu');
  await tf.ready();
  const manifest = JSON.parse(fs.readFileSync(path.join(inDir, 'manifest.json'), 'utf8'));
  const byModel = new Map();
  for (const e of manifest) {
    if (!byModel.has(e.model)) byModel.set(e.model, []);
    byModel.get(e.model).push(e);
  }
  fs.mkdirSync(outDir, { recursive: true });
  for (const [model, entries] of byModel) {
    if (entries[0].kind === 'faceapi') {
      await faceAPIGolden(model, entries, inDir, outDir);
      continue;
    }
    const gm = await loadGraphModel(fileHandler(entries[0].json));
    // Node names (not signature keys) of the model's default outputs.
    const outputNodes = gm.executor.graph.outputs.map((n) => n.name);
    const cases = [];
    for (const e of entries) {
      const { sha, data } = readInput(inDir, e);
      const input = tf.tensor(data, e.shape, 'float32');
      let outs = gm.execute(input, e.outputs);
      if (!Array.isArray(outs)) outs = [outs];
      cases.push({ case: e.case, inputSha256: sha, outputs: outs.map((t, i) => summarise(e.outputs[i], t)) });
      tf.dispose([input, ...outs]);
    }
    const golden = { model, tfjs: `tfjs-core ${tf.version_core}, backend cpu`, outputNodes, cases };
    fs.writeFileSync(path.join(outDir, `${model}.json`), JSON.stringify(golden) + '\n');
    gm.dispose();
    console.log(`${model}: ${cases.length} cases, outputs ${outputNodes.join(', ')}`);
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
