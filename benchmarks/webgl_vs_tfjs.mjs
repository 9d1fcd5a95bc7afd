// Kiln's WebGL runtime against TensorFlow.js's WebGL backend in the same headless Chromium
// (SwiftShader), same page, same run, on the same model and weights: the real MobileNet v2
// that npm nsfwjs ships (a TF.js layers model; the e2e fixture extract_nsfwjs unpacks it).
// Prints per runtime the first inference and the median of RUNS steady-state inferences (the
// two runtimes take turns), the ratios of the medians and the median and range of the ratios
// of each turn (> 1: Kiln is faster), and the largest difference between the two outputs.
//
// First inference is the time from the start of loading the model (Kiln: KilnModel.load, its
// files fetched from the local server; TF.js: tf.loadLayersModel) to the first output read
// back on the page: it includes fetching, texture creation and weight upload, compiling and
// linking every shader, and the first run. The browser is fresh (new profile, nothing in its
// shader caches). With --breakdown, a second fresh browser loads Kiln with { timing: true }
// and prints where its first inference went (kiln.js timingReport(): per phase and per
// program; its synchronisation after each draw makes it a little slower than the figure
// above). --kiln-only leaves TF.js out (no anchor, no ratio: for looking at Kiln alone).
//
//   node benchmarks/webgl_vs_tfjs.mjs [RUNS] [--breakdown] [--kiln-only]
//   (after a release build and its e2e fixtures)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const build = process.env.KILN_BUILD ?? join(root, 'build/release');
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const runs = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 5);
for (const f of flags)
  if (f !== '--breakdown' && f !== '--kiln-only') {
    console.error(`unknown option ${f}; usage: node benchmarks/webgl_vs_tfjs.mjs [RUNS] [--breakdown] [--kiln-only]`);
    process.exit(2);
  }
const breakdown = flags.includes('--breakdown'), kilnOnly = flags.includes('--kiln-only');
const tfjsModel = join(build, 'nsfwjs-mobilenetv2');
if (!existsSync(join(tfjsModel, 'model.json'))) {
  console.error(`${tfjsModel} is missing: run ctest --test-dir ${build} -R extract_nsfwjs`);
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'kiln-webgl-bench-'));
const bundle = join(work, 'kiln');
const c = spawnSync(join(build, 'bin/kiln'), ['compile', tfjsModel, '--target', 'webgl', '--bundle', bundle], { encoding: 'utf8' });
if (c.status !== 0) throw new Error(c.stderr);

const page = `<!doctype html><meta charset="utf-8"><script src="/tf.min.js"></script>
<script type="module">
import { KilnModel } from '/kiln/kiln.js';
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
window.bench = async (runs, withTfjs) => {
  const x = new Float32Array(224 * 224 * 3);
  for (let i = 0; i < x.length; ++i) x[i] = (Math.sin(i * 0.013) + 1) / 2;
  const out = {};
  let t = performance.now();
  const kiln = await KilnModel.load(new URL('/kiln/', location.href));
  out.kilnLoad = performance.now() - t;
  let [k] = await kiln.run([x]);
  out.kilnFirst = performance.now() - t;
  out.programs = kiln.programCount;
  out.passes = kiln.passes.length;
  out.renderer = kiln.renderer;
  const kt = [];
  if (!withTfjs) {
    for (let r = 0; r < runs; ++r) { t = performance.now(); [k] = await kiln.run([x]); kt.push(performance.now() - t); }
    out.kiln = median(kt);
    return out;
  }
  await tf.setBackend('webgl');
  await tf.ready();
  t = performance.now();
  const m = await tf.loadLayersModel('/tfjs/model.json');
  const xt = tf.tensor(x, [1, 224, 224, 3]);
  // (each output tensor is disposed, so TF.js reuses its textures as an application would)
  const predict = () => { const o = m.predict(xt); const d = o.dataSync(); o.dispose(); return d; };
  let y = predict();
  out.tfjsFirst = performance.now() - t;
  // Steady state: the two runtimes take turns, so a change in the machine's load (other
  // processes on the same cores) hits both alike; each pair gives one ratio.
  const tt = [], ratios = [];
  for (let r = 0; r < runs; ++r) {
    t = performance.now();
    [k] = await kiln.run([x]);
    kt.push(performance.now() - t);
    t = performance.now();
    y = predict();
    tt.push(performance.now() - t);
    ratios.push(tt[r] / kt[r]);
  }
  out.kiln = median(kt);
  out.tfjs = median(tt);
  out.ratios = ratios;
  out.maxDiff = Math.max(...Array.from(k, (v, i) => Math.abs(v - y[i])));
  out.tfjsVersion = tf.version.tfjs;
  return out;
};
window.breakdown = async () => {
  const x = new Float32Array(224 * 224 * 3);
  const t = performance.now();
  const kiln = await KilnModel.load(new URL('/kiln/', location.href), { timing: true });
  await kiln.run([x]);
  return 'first inference ' + (performance.now() - t).toFixed(1) + ' ms with timing on\\n' + kiln.timingReport();
};
window.ready = true;
</script>`;

const { serveLocal } = await import(join(root, 'scripts/node/local_server.mjs'));
const server = await serveLocal((path) =>
  path === '/bench.html' ? { body: page }
    : path === '/tf.min.js' ? join(root, 'scripts/node/node_modules/@tensorflow/tfjs/dist/tf.min.js')
    : path.startsWith('/kiln/') ? join(bundle, path.slice(6))
    : path.startsWith('/tfjs/') ? join(tfjsModel, path.slice(6)) : null);
const { launchChromium, openReadyPage } = await import(join(root, 'scripts/node/chromium.mjs'));
// Each measurement in a browser of its own: nothing compiled by one is cached for the next.
async function inFreshBrowser(fn) {
  const { context, profile } = await launchChromium();
  try {
    const p = await openReadyPage(context, `http://127.0.0.1:${server.address().port}/bench.html`);
    return await fn(p);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
try {
  const r = await inFreshBrowser((p) => p.evaluate(([n, withTfjs]) => window.bench(n, withTfjs), [runs, !kilnOnly]));
  console.log(`browser: Chromium headless, WebGL2 on ${r.renderer}; ` +
    (kilnOnly ? 'TF.js left out (--kiln-only)' : `TF.js ${r.tfjsVersion} (webgl backend)`) + `; ${runs} runs`);
  console.log('model: nsfwjs MobileNet v2 (TF.js layers model, 224x224x3); ' +
    `Kiln: ${r.passes} passes, ${r.programs} programs; first = from loading to the first output`);
  console.log(`${'runtime'.padEnd(10)} ${'first_ms'.padStart(10)} ${'steady_ms'.padStart(10)}`);
  console.log(`${'kiln'.padEnd(10)} ${r.kilnFirst.toFixed(1).padStart(10)} ${r.kiln.toFixed(1).padStart(10)}` +
    `   (load ${r.kilnLoad.toFixed(1)} ms + first run ${(r.kilnFirst - r.kilnLoad).toFixed(1)} ms)`);
  if (!kilnOnly) {
    console.log(`${'tfjs'.padEnd(10)} ${r.tfjsFirst.toFixed(1).padStart(10)} ${r.tfjs.toFixed(1).padStart(10)}`);
    const rs = [...r.ratios].sort((a, b) => a - b);
    console.log(`ratio (tfjs / kiln, steady): ${(r.tfjs / r.kiln).toFixed(3)}x of the medians; per pair ` +
      `median ${rs[Math.floor(rs.length / 2)].toFixed(3)}x, range ${rs[0].toFixed(3)}-${rs[rs.length - 1].toFixed(3)}x`);
    console.log(`ratio (tfjs / kiln, first inference): ${(r.tfjsFirst / r.kilnFirst).toFixed(3)}x; ` +
      `max |kiln - tfjs| ${r.maxDiff.toExponential(2)}`);
  }
  if (breakdown) console.log(await inFreshBrowser((p) => p.evaluate(() => window.breakdown())));
} finally {
  server.close();
  rmSync(work, { recursive: true, force: true });
}
