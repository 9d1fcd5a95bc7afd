// Times an ONNX model with onnxruntime-web in headless Chromium: the in-browser anchor of
// `kiln bench --targets webgl` and benchmarks/webgl_vs_ort_web.mjs for ONNX models, in the
// same browser (WebGL2 on SwiftShader) that Kiln's WebGL bundle runs in. npm onnxruntime-web's
// dist/ files and the model are served from 127.0.0.1 only (with the cross-origin isolation
// headers its multi-threaded wasm needs); the page creates a session with one execution
// provider, runs it WARMUP times untimed, then RUNS times timed (run + reading the output).
//
//   node bench_ort_web.mjs MODEL.onnx INPUT.npy [--ep wasm|webgl|webgpu] [--threads T]
//        [--runs R] [--warmup W] [--output OUT.npy]
//
// Prints one JSON line: {"ort_version", "ep", "threads", "renderer", "browser", "load_ms"
// (creating the session), "first_ms" (the first run), "first_inference_ms" (the two: from
// creating the session to the first output), "times_ms": [...]}; with --output, writes the first output as .npy. An execution
// provider the browser cannot start (WebGPU without an adapter) exits 3 with the reason.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { readNpy, writeNpy } = await import(join(here, 'npy.mjs'));

const args = process.argv.slice(2);
const opts = { runs: 10, warmup: 2, ep: 'wasm', threads: 1, output: '' };
const pos = [];
for (let i = 0; i < args.length; ++i) {
  const m = /^--(runs|warmup|ep|threads|output)$/.exec(args[i]);
  if (m) opts[m[1]] = ['runs', 'warmup', 'threads'].includes(m[1]) ? Number(args[++i]) : args[++i];
  else pos.push(args[i]);
}
if (pos.length !== 2 || !(opts.runs >= 1) || !(opts.warmup >= 0) || !(opts.threads >= 1) ||
    !['wasm', 'webgl', 'webgpu'].includes(opts.ep)) {
  console.error('usage: node bench_ort_web.mjs MODEL.onnx INPUT.npy [--ep wasm|webgl|webgpu] ' +
    '[--threads T] [--runs R] [--warmup W] [--output OUT.npy]');
  process.exit(2);
}
const model = resolve(pos[0]);
const x = readNpy(pos[1]);
const dist = join(here, 'node_modules/onnxruntime-web/dist');
if (!existsSync(join(dist, 'ort.all.min.js'))) {
  console.error(`bench_ort_web: ${dist}/ort.all.min.js is missing (npm onnxruntime-web; run scripts/setup.sh)`);
  process.exit(2);
}

const page = `<!doctype html><meta charset="utf-8"><script src="/ort/ort.all.min.js"></script>
<script>
window.bench = async (data, dims, ep, threads, runs, warmup) => {
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = threads;
  let t = performance.now();
  let session;
  try {
    session = await ort.InferenceSession.create('/model.onnx', { executionProviders: [ep] });
  } catch (e) {
    return { unavailable: String(e.message ?? e) };
  }
  const load = performance.now() - t;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(data), dims) };
  const run = async () => {
    const r = await session.run(feeds);
    const y = r[session.outputNames[0]];
    const v = await y.getData();  // on the CPU: what a caller reads
    for (const k in r) r[k].dispose?.();
    return { v, dims: y.dims };
  };
  t = performance.now();
  let y = await run();
  const first = performance.now() - t;
  for (let i = 1; i < warmup; ++i) await run();
  const times = [];
  for (let i = 0; i < runs; ++i) {
    t = performance.now();
    y = await run();
    times.push(performance.now() - t);
  }
  let renderer = 'CPU (wasm' + (crossOriginIsolated && threads > 1 ? ', ' + threads + ' threads' : ', 1 thread') + ')';
  if (ep === 'webgl') {
    const gl = document.createElement('canvas').getContext('webgl2');
    const d = gl && gl.getExtension('WEBGL_debug_renderer_info');
    renderer = gl ? (d ? gl.getParameter(d.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER)) : '?';
  } else if (ep === 'webgpu') {
    renderer = 'WebGPU';
  }
  return { version: ort.env.versions?.web ?? '?', isolated: crossOriginIsolated, load, first, times,
    renderer, y: Array.from(y.v), dims: y.dims };
};
window.ready = true;
</script>`;
const { serveLocal } = await import(join(here, 'local_server.mjs'));
const server = await serveLocal((path) =>
  path === '/bench.html' ? { body: page }
    : path === '/model.onnx' ? model
    : path.startsWith('/ort/') ? join(dist, path.slice(5)) : null,
  { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
const { launchChromium } = await import(join(here, 'chromium.mjs'));
const { context, profile } = await launchChromium();
try {
  const p = context.pages()[0] ?? (await context.newPage());
  await p.route('**/*', (route) => {
    const u = new URL(route.request().url());
    return u.hostname === '127.0.0.1' ? route.continue() : route.abort();
  });
  await p.goto(`http://127.0.0.1:${server.address().port}/bench.html`);
  await p.waitForFunction(() => window.ready);
  p.setDefaultTimeout(0);
  const r = await p.evaluate(({ data, dims, ep, threads, runs, warmup }) => window.bench(data, dims, ep, threads, runs, warmup),
    { data: Array.from(x.data), dims: x.dims, ep: opts.ep, threads: opts.threads, runs: opts.runs, warmup: opts.warmup });
  if (r.unavailable) {
    console.error(`bench_ort_web: onnxruntime-web's ${opts.ep} execution provider cannot start here: ${r.unavailable}`);
    process.exitCode = 3;
  } else {
    if (opts.output) writeNpy(opts.output, 'float32', r.dims, Float32Array.from(r.y));
    const browser = context.browser()?.version() ?? 'chromium';
    console.log(JSON.stringify({ browser, ort_version: r.version, ep: opts.ep,
      threads: r.isolated ? opts.threads : 1, renderer: r.renderer, load_ms: r.load, first_ms: r.first,
      first_inference_ms: r.load + r.first,
      times_ms: r.times }));
  }
} catch (e) {
  console.error(`bench_ort_web: ${e.message}`);
  process.exitCode = 1;
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
