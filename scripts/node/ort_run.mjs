// Run an ONNX model in onnxruntime (CPU execution provider) on .npy inputs and
// save every output as .npy: the float reference Kiln's results are compared to.
//
//   node ort_run.mjs MODEL.onnx OUT_PREFIX [--threads N] NAME=IN.npy ...
//
// Writes OUT_PREFIX.<output name>.npy per output (characters outside
// [A-Za-z0-9._-] in the name become '_') and prints "<name> <dims>" per output,
// dims joined by 'x' (e.g. "output 1x1000"). Graph optimizations stay at
// onnxruntime's default level; intra-op threads default to 1.
import { readNpy, writeNpy } from './npy.mjs';

// onnxruntime keeps a device id and telemetry store under ~/.cache unless told
// not to; the variable must be set before the native library loads.
process.env.ORT_DISABLE_TELEMETRY ??= '1';
const { default: ort } = await import('onnxruntime-node');

function usage(msg) {
  if (msg) console.error(`ort_run: ${msg}`);
  console.error('usage: node ort_run.mjs MODEL.onnx OUT_PREFIX [--threads N] NAME=IN.npy ...');
  process.exit(2);
}

function parseArgs(argv) {
  const positional = [];
  const inputs = {};
  let threads = 1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--threads') {
      threads = Number(argv[++i]);
      if (!Number.isInteger(threads) || threads < 1) usage('--threads needs a positive integer');
    } else if (a.startsWith('--threads=')) {
      threads = Number(a.slice('--threads='.length));
      if (!Number.isInteger(threads) || threads < 1) usage('--threads needs a positive integer');
    } else if (positional.length >= 2 && a.includes('=')) {
      const eq = a.indexOf('=');
      inputs[a.slice(0, eq)] = a.slice(eq + 1);
    } else {
      positional.push(a);
    }
  }
  if (positional.length !== 2) usage();
  return { model: positional[0], prefix: positional[1], threads, inputs };
}

async function main() {
  const { model, prefix, threads, inputs } = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });

  const feeds = {};
  for (const [name, path] of Object.entries(inputs)) {
    if (!session.inputNames.includes(name)) {
      usage(`model has no input '${name}' (inputs: ${session.inputNames.join(', ')})`);
    }
    const { type, dims, data } = readNpy(path);
    feeds[name] = new ort.Tensor(type, data, dims);
  }
  const missing = session.inputNames.filter((n) => !(n in feeds));
  if (missing.length) usage(`missing input(s): ${missing.join(', ')}`);

  const results = await session.run(feeds);
  for (const name of session.outputNames) {
    const t = results[name];
    const file = `${prefix}.${name.replace(/[^A-Za-z0-9._-]/g, '_')}.npy`;
    writeNpy(file, t.type, t.dims, t.data);
    console.log(`${name} ${t.dims.length ? t.dims.join('x') : 'scalar'}`);
  }
  await session.release();
}

main().catch((e) => {
  console.error(`ort_run: ${e.message ?? e}`);
  process.exit(1);
});
