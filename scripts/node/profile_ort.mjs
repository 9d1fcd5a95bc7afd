// Per-node profile of an ONNX model in onnxruntime (CPU execution provider), to compare with
// `kiln run MODEL --target llvm --profile` kernel by kernel.
//
//   node profile_ort.mjs MODEL.onnx [--threads N] [--runs R]
//
// Runs the model R times (after one warm-up run) with onnxruntime's enableProfiling and
// prints, slowest first, every node's mean time per run in ms, its operator and name, and
// the total. Inputs are seeded random values, as in bench_ort.mjs.
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.ORT_DISABLE_TELEMETRY ??= '1';
const { default: ort } = await import('onnxruntime-node');

function usage(msg) {
  if (msg) console.error(`profile_ort: ${msg}`);
  console.error('usage: node profile_ort.mjs MODEL.onnx [--threads N] [--runs R]');
  process.exit(2);
}

const argv = process.argv.slice(2);
const opts = { threads: 1, runs: 10 };
let model;
for (let i = 0; i < argv.length; i++) {
  const m = /^--(threads|runs)(?:=(.*))?$/.exec(argv[i]);
  if (m) {
    const v = Number(m[2] ?? argv[++i]);
    if (!Number.isInteger(v) || v < 1) usage(`--${m[1]} needs an integer >= 1`);
    opts[m[1]] = v;
  } else if (model === undefined && !argv[i].startsWith('--')) {
    model = argv[i];
  } else {
    usage(`unexpected argument ${argv[i]}`);
  }
}
if (model === undefined) usage();

const prefix = join(tmpdir(), `kiln-ort-profile-${process.pid}`);
let session;
try {
  session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
} catch (e) {
  console.error(`profile_ort: cannot load ${model}: ${e.message ?? e}`);
  process.exit(1);
}
let seed = 1234;
const next = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296;
};
const feeds = {};
for (const meta of session.inputMetadata) {
  const dims = (meta.shape ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1)).map(() => next() * 2 - 1);
  feeds[meta.name] = new ort.Tensor('float32', data, dims);
}
await session.run(feeds);
for (let i = 0; i < opts.runs; i++) await session.run(feeds);
session.endProfiling();
await session.release();
// The profile is written to PREFIX_<date>.json.
const base = `kiln-ort-profile-${process.pid}`;
const found = readdirSync(tmpdir()).filter((f) => f.startsWith(base) && f.endsWith('.json'));
if (found.length !== 1) {
  console.error(`profile_ort: onnxruntime wrote no profile under ${prefix}*.json`);
  process.exit(1);
}
const file = join(tmpdir(), found[0]);

const events = JSON.parse(readFileSync(file, 'utf8'));
unlinkSync(file);
// Node events of the timed runs only: the first run is the warm-up.
const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
const start = runs.length > opts.runs ? runs[runs.length - opts.runs].ts : 0;
const perNode = new Map();
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < start) continue;
  const name = e.name.slice(0, -'_kernel_time'.length);
  const cur = perNode.get(name) ?? { op: e.args?.op_name ?? '?', us: 0 };
  cur.us += e.dur;
  perNode.set(name, cur);
}
const rows = [...perNode.entries()].sort((a, b) => b[1].us - a[1].us);
let total = 0;
for (const [name, { op, us }] of rows) {
  const ms = us / 1000 / opts.runs;
  total += ms;
  console.log(`${ms.toFixed(3).padStart(9)} ms  ${op.padEnd(20)} ${name}`);
}
console.log(`${total.toFixed(3).padStart(9)} ms  total over ${rows.length} nodes, ${opts.threads} thread(s), mean of ${opts.runs} runs`);
