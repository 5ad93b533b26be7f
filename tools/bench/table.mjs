// Builds the "Model inference" section of docs/BENCHMARKS.md from the
// blocks scripts/bench.sh ran: ours (`go test -bench 'Model|Peak'` output)
// and the peers (peers.mjs JSON lines), interleaved A/B/A/B at 1 and 2
// threads over several repeats.
//
// usage: node table.mjs <dir> <samples.tsv> > section.md
//   writes every block's per-model median, minimum and CPU ms to samples.tsv
//   <dir>/blocks.tsv: rep, threads, side (ours|peer), file, busy %, load, quiet (yes|no), waited s
//   <dir>/<file>: the block's output
import fs from 'node:fs';
import path from 'node:path';

const [dir, samplesFile] = process.argv.slice(2);
const CONV_HEAVY = ['fr_feature', 'fr_liveness', 'faceres', 'blazeface-back', 'facemesh-detection-short', 'facemesh-detection-full', 'fr_detect'];

const blocks = fs.readFileSync(path.join(dir, 'blocks.tsv'), 'utf8').trim().split('\n').map((l) => {
  const [rep, threads, side, file, busy, load, quiet, waited] = l.split('\t');
  return { rep: Number(rep), threads: Number(threads), side, file, busy: Number(busy), load, quiet: quiet === 'yes', waited: Number(waited) };
});

function readGo(file) {
  const out = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^Benchmark(Model|Peak)(?:\/(\S+?))?(?:-\d+)?\s+\d+\s+(.*)$/);
    if (!m) continue;
    const metrics = {};
    for (const [, v, unit] of m[3].matchAll(/([\d.e+-]+) (\S+)/g)) metrics[unit] = Number(v);
    out.set(m[1] === 'Peak' ? 'peak' : m[2], metrics);
  }
  return out;
}

function readPeers(file) {
  const out = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('{')) {
      const p = JSON.parse(line);
      out.set(p.model, p);
    }
  }
  return out;
}

// samples[model][threads] = { ours: [{rep, median, min, cpu}], peer: [...], gflop, service, peerName }
const samples = new Map();
const entry = (model, t) => {
  if (!samples.has(model)) samples.set(model, {});
  const s = samples.get(model);
  if (!s[t]) s[t] = { ours: new Map(), peer: new Map() };
  return s[t];
};
const order = [];
const raw = ['repeat\tthreads\tside\tmodel\tmedian_ms\tmin_ms\tcpu_ms\tbusy_pct\tquiet'];
for (const b of blocks) {
  const file = path.join(dir, b.file);
  if (!fs.existsSync(file)) continue;
  if (b.side === 'ours') {
    for (const [model, m] of readGo(file)) {
      if (!order.includes(model)) order.push(model);
      const e = entry(model, b.threads);
      e.ours.set(b.rep, { median: m['median-ms'], min: m['min-ms'], cpu: m['cpu-ms'] });
      raw.push([b.rep, b.threads, 'ours', model, m['median-ms'], m['min-ms'], m['cpu-ms'], b.busy, b.quiet ? 'yes' : 'no'].join('\t'));
      e.gflop = m.GFLOP;
      samples.get(model).service = m['service-threads'];
    }
  } else {
    for (const [model, p] of readPeers(file)) {
      const e = entry(model, b.threads);
      e.peer.set(b.rep, { median: p.median_ms, min: p.min_ms });
      raw.push([b.rep, b.threads, p.peer, model, p.median_ms.toFixed(3), p.min_ms.toFixed(3), '', b.busy, b.quiet ? 'yes' : 'no'].join('\t'));
      e.peerName = p.peer;
    }
  }
}

const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f = (x, d = 2) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));

// stats of one (model, threads): medians over repeats, mins, ratio per repeat.
function stats(e) {
  if (!e) return null;
  const reps = [...e.ours.keys()].sort((a, b) => a - b);
  const ours = reps.map((r) => e.ours.get(r).median);
  const peer = reps.filter((r) => e.peer.has(r)).map((r) => e.peer.get(r).median);
  const ratios = reps.filter((r) => e.peer.has(r)).map((r) => e.peer.get(r).median / e.ours.get(r).median);
  return {
    ours: med(ours), oursMin: Math.min(...reps.map((r) => e.ours.get(r).min)), cpu: med(reps.map((r) => e.ours.get(r).cpu)),
    peer: peer.length ? med(peer) : NaN, peerMin: peer.length ? Math.min(...[...e.peer.values()].map((p) => p.min)) : NaN,
    ratios, ratio: ratios.length ? med(ratios) : NaN, gflop: e.gflop, peerName: e.peerName,
  };
}

const peak = { 1: stats(samples.get('peak')?.[1]), 2: stats(samples.get('peak')?.[2]) };
const peakGF = (t) => (peak[t] ? peak[t].gflop / (peak[t].ours / 1000) : NaN);

const rows = [];
const slower2x = { 1: [], 2: [] };
const belowPeak = [];
const threadChoice = [];
for (const model of order) {
  if (model === 'peak') continue;
  const s = samples.get(model);
  const st = { 1: stats(s[1]), 2: stats(s[2]) };
  const cell = (t) => {
    const x = st[t];
    if (!x) return ['n/a', 'n/a', 'n/a'];
    const ratio = x.ratios.length ? `**${f(x.ratio, 1)}x** (${x.ratios.map((r) => f(r, 1)).join(' ')})` : 'n/a';
    if (x.ratios.length && x.ratio < 2) slower2x[t].push(`${model} ${f(x.ratio, 1)}x`);
    return [`${f(x.ours)} (${f(x.oursMin)})`, x.peerName ? `${f(x.peer)} (${f(x.peerMin)})` : 'n/a', ratio];
  };
  const c1 = cell(1);
  const c2 = cell(2);
  const svc = s.service || 1;
  const used = st[svc] || st[1];
  const gfs = used ? used.gflop / (used.ours / 1000) : NaN;
  const pct = 100 * gfs / peakGF(svc);
  if (CONV_HEAVY.includes(model) && pct < 30) belowPeak.push(`${model} ${f(pct, 0)}%`);
  if (st[1] && st[2]) {
    const best = st[2].ours < st[1].ours ? 2 : 1;
    if (best !== svc) threadChoice.push(`${model} (service ${svc}, faster here ${best}: ${f(st[1].ours)} vs ${f(st[2].ours)} ms)`);
  }
  const peerName = (st[1] && st[1].peerName) || (st[2] && st[2].peerName) || 'n/a';
  rows.push(`| ${model} | ${f(used?.gflop, 3)} | ${svc} | ${c1[0]} | ${c1[1]} | ${c1[2]} | ${c2[0]} | ${c2[1]} | ${c2[2]} | ${f(used?.cpu)} | ${f(gfs, 0)} (${f(pct, 0)}%) | ${peerName} |`);
}

const reps = new Set(blocks.map((b) => b.rep)).size;
const quiet = blocks.filter((b) => b.quiet).length;
const noisy = blocks.filter((b) => !b.quiet).map((b) => `rep ${b.rep} ${b.side} ${b.threads} thr (${b.busy}% busy, load ${b.load})`);
const runs = process.env.BENCH_RUNS || 30;
const out = [
  '## Model inference',
  '',
  `Generated by \`make bench\` (scripts/bench.sh, section \`models\`). Batch 1 on the same inputs (crops of sample1.jpg:`,
  'a face, an eye for iris, the whole photo for fr_detect; preprocessed as each model expects, written by the Go tests',
  'and read by the Node peers). **Ours**: ONNX Runtime through package infer with the service\'s settings',
  '(internal/infer/settings.go: denormals flushed, graph rewrites for the blocked layout, spinning off), all 14',
  'models loaded as livenessd loads them; the TF.js models run as their Go translation (internal/infer/tfjs).',
  '**Peers**: TF.js with @tensorflow/tfjs-backend-wasm for the TF.js models (single-threaded in Node: its threaded',
  'build needs browser workers, so there is no 2-thread peer for them), onnxruntime-web (wasm) for the ONNX models,',
  'in Node from tools/bench/node_modules.',
  '',
  `Method: ${reps} repeats; in each, a block of every model for ours and one for the peer at 1 thread, then at`,
  '2 threads, the order of ours and peer alternating between repeats (A/B/B/A). Before each block the script',
  `waits (up to ${process.env.BENCH_QUIET_WAIT || 300} s) until the CPUs were at most ${process.env.BENCH_QUIET_BUSY || 15}% busy over 2 s, and records`,
  `whether they were. A block times each model ${runs} times after a warm-up and keeps the median; the table`,
  'gives the median over repeats of those medians (the minimum single run in brackets), and the ratio peer/ours',
  '**per repeat** (its median in bold; above 1 we are faster). GFLOP = 2 x conv/matmul MACs of the ONNX graph',
  '(infer.FLOPs); GFLOP/s and CPU ms are ours at the service\'s thread count ("thr"), CPU ms being the process CPU',
  'time of one run (all ORT threads); % compares with the measured fp32 peak: a dense 3x3 convolution stack',
  `(BenchmarkPeak) reached **${f(peakGF(1), 0)} GFLOP/s on 1 thread and ${f(peakGF(2), 0)} on 2** in this run.`,
  '',
  `Machine: ${process.env.BENCH_MACHINE || ''}. Blocks that started quiet: ${quiet} of ${blocks.length}${noisy.length ? ` (not quiet: ${noisy.join('; ')})` : ''}.`,
  'Every block\'s numbers: docs/bench/models-samples.tsv.',
  '',
  '| model | GFLOP | thr | ours ms, 1 thr | peer ms, 1 thr | ratio, 1 thr (per repeat) | ours ms, 2 thr | peer ms, 2 thr | ratio, 2 thr (per repeat) | CPU ms | GFLOP/s (% of peak) | peer |',
  '|---|---:|---:|---:|---:|---|---:|---:|---|---:|---:|---|',
  ...rows,
  '',
  slower2x[1].length === 0 ? 'At 1 thread every model is at least 2x its peer (median over repeats).' : `Below 2x the peer at 1 thread: ${slower2x[1].join(', ')}.`,
  slower2x[2].length === 0 ? 'At 2 threads every model with a 2-thread peer is at least 2x faster.' : `Below 2x the peer at 2 threads: ${slower2x[2].join(', ')}.`,
  belowPeak.length === 0 ? `The convolution-heavy models (${CONV_HEAVY.join(', ')}) all reach at least 30% of the measured peak at their thread count.` : `Below 30% of the measured peak: ${belowPeak.join(', ')}.`,
  threadChoice.length === 0 ? 'The thread count the service gives each model (settings.go) was the faster one in this run.' : `Thread counts this run disagrees with (settings.go): ${threadChoice.join('; ')}.`,
  '',
];
process.stdout.write(out.join('\n'));
if (samplesFile) fs.writeFileSync(samplesFile, `${raw.join('\n')}\n`);
