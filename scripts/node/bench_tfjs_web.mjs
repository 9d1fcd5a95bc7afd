// Times a TF.js layers model with TensorFlow.js's WebGL backend in headless Chromium
// (WebGL2 on SwiftShader): the in-browser anchor of `kiln bench` for TF.js models, in the
// same browser Kiln's WebGL bundle runs in. The model folder and tf.min.js (npm
// @tensorflow/tfjs) are served from 127.0.0.1 only; the page loads the model, runs it on
// the given input WARMUP times untimed, then RUNS times timed (predict + dataSync).
//
//   node bench_tfjs_web.mjs MODEL_DIR INPUT.npy [--runs R] [--warmup W]
//
// Prints one JSON line: {"tfjs_version":..., "renderer":..., "first_ms": (the first predict),
// "first_inference_ms": (from loadLayersModel to the first output), "times_ms":[...]}.
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { readNpy } = await import(join(here, 'npy.mjs'));

const args = process.argv.slice(2);
const opts = { runs: 10, warmup: 2 };
const pos = [];
for (let i = 0; i < args.length; ++i) {
  const m = /^--(runs|warmup)$/.exec(args[i]);
  if (m) opts[m[1]] = Number(args[++i]);
  else pos.push(args[i]);
}
if (pos.length !== 2 || !(opts.runs >= 1) || !(opts.warmup >= 0)) {
  console.error('usage: node bench_tfjs_web.mjs MODEL_DIR INPUT.npy [--runs R] [--warmup W]');
  process.exit(2);
}
const modelDir = resolve(pos[0]);
const x = readNpy(pos[1]);
const tfjs = join(here, 'node_modules/@tensorflow/tfjs/dist/tf.min.js');

const page = `<!doctype html><meta charset="utf-8"><script src="/tf.min.js"></script>
<script>
window.bench = async (data, shape, runs, warmup) => {
  await tf.setBackend('webgl');
  await tf.ready();
  const xt = tf.tensor(new Float32Array(data), shape);
  const t0 = performance.now();
  const m = await tf.loadLayersModel('/model/model.json');
  let t = performance.now();
  m.predict(xt).dataSync();
  const first = performance.now() - t;
  const firstInference = performance.now() - t0;
  for (let i = 1; i < warmup; ++i) m.predict(xt).dataSync();
  const times = [];
  for (let i = 0; i < runs; ++i) {
    t = performance.now();
    const y = m.predict(xt);
    y.dataSync();
    y.dispose();
    times.push(performance.now() - t);
  }
  const gl = tf.backend().gpgpu.gl;
  const d = gl.getExtension('WEBGL_debug_renderer_info');
  return { first, firstInference, times, version: tf.version.tfjs,
    renderer: d ? gl.getParameter(d.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER) };
};
window.ready = true;
</script>`;
const { serveLocal } = await import(join(here, 'local_server.mjs'));
const server = await serveLocal((path) =>
  path === '/bench.html' ? { body: page }
    : path === '/tf.min.js' ? tfjs
    : path.startsWith('/model/') ? join(modelDir, path.slice(7)) : null);
const { launchChromium, openReadyPage } = await import(join(here, 'chromium.mjs'));
const { context, profile } = await launchChromium();
try {
  const p = await openReadyPage(context, `http://127.0.0.1:${server.address().port}/bench.html`);
  const r = await p.evaluate(({ data, shape, runs, warmup }) => window.bench(data, shape, runs, warmup),
    { data: Array.from(x.data), shape: x.dims, runs: opts.runs, warmup: opts.warmup });
  const browser = context.browser()?.version() ?? 'chromium';
  console.log(JSON.stringify({ browser, tfjs_version: r.version, renderer: r.renderer, first_ms: r.first,
    first_inference_ms: r.firstInference, times_ms: r.times }));
} catch (e) {
  console.error(`bench_tfjs_web: ${e.message}`);
  process.exitCode = 1;
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
