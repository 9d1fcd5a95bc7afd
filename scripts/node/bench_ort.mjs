// Time an ONNX model in onnxruntime (CPU execution provider) as a baseline
// for Kiln's benchmarks.
//
//   node bench_ort.mjs MODEL.onnx [--threads N] [--runs R] [--warmup W]
//
// Inputs are seeded random values in the shapes the model declares (symbolic
// dimensions are taken as 1). Prints one JSON line, e.g.
// {"model":"resnet18.onnx","ort_version":"1.30.0","threads":1,"runs":20,
//  "warmup":3,"median_ms":41.2,"min_ms":40.8,"max_ms":42.9,"mean_ms":41.5,"times_ms":[...]}
import { basename } from 'node:path';

// onnxruntime keeps a device id and telemetry store under ~/.cache unless told
// not to; the variable must be set before the native library loads.
process.env.ORT_DISABLE_TELEMETRY ??= '1';
const { default: ort } = await import('onnxruntime-node');

function usage(msg) {
  if (msg) console.error(`bench_ort: ${msg}`);
  console.error('usage: node bench_ort.mjs MODEL.onnx [--threads N] [--runs R] [--warmup W]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { threads: 1, runs: 20, warmup: 3 };
  let model;
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(threads|runs|warmup)(?:=(.*))?$/.exec(argv[i]);
    if (m) {
      const v = Number(m[2] ?? argv[++i]);
      const min = m[1] === 'warmup' ? 0 : 1;
      if (!Number.isInteger(v) || v < min) usage(`--${m[1]} needs an integer >= ${min}`);
      opts[m[1]] = v;
    } else if (model === undefined && !argv[i].startsWith('--')) {
      model = argv[i];
    } else {
      usage(`unexpected argument ${argv[i]}`);
    }
  }
  if (model === undefined) usage();
  return { model, ...opts };
}

// mulberry32: small deterministic PRNG, values in [0, 1)
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomTensor(meta, next) {
  const dims = (meta.shape ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const n = dims.reduce((a, b) => a * b, 1);
  switch (meta.type) {
    case 'float32': {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = next() * 2 - 1;
      return new ort.Tensor('float32', data, dims);
    }
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(n), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(n), dims);
    default:
      throw new Error(`input '${meta.name}': unsupported type ${meta.type}`);
  }
}

async function main() {
  const { model, threads, runs, warmup } = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const next = rng(1234);
  const feeds = {};
  for (const meta of session.inputMetadata) feeds[meta.name] = randomTensor(meta, next);

  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await session.release();

  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const round = (x) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({
    model: basename(model),
    ort_version: ort.env.versions?.common ?? null,
    threads,
    runs,
    warmup,
    median_ms: round(median),
    min_ms: round(sorted[0]),
    max_ms: round(sorted[sorted.length - 1]),
    mean_ms: round(times.reduce((a, b) => a + b, 0) / times.length),
    times_ms: times.map(round),
  }));
}

main().catch((e) => {
  console.error(`bench_ort: ${e.message ?? e}`);
  process.exit(1);
});
