// Kiln's WebGL runtime against TensorFlow.js's WebGL backend in the same headless Chromium
// (SwiftShader), same page, same run, on the same model and weights: the real MobileNet v2
// that npm nsfwjs ships (a TF.js layers model; the e2e fixture extract_nsfwjs unpacks it).
// Prints per runtime the first inference (shader compilation included) and the median of
// RUNS steady-state inferences (the two runtimes take turns), the ratio of the medians and
// the median and range of the ratios of each turn (> 1: Kiln is faster), and the largest
// difference between the two outputs.
//
//   node benchmarks/webgl_vs_tfjs.mjs [RUNS]     (after a release build and its e2e fixtures)
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const build = process.env.KILN_BUILD ?? join(root, 'build/release');
const runs = Number(process.argv[2] ?? 5);
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
window.bench = async (runs) => {
  const x = new Float32Array(224 * 224 * 3);
  for (let i = 0; i < x.length; ++i) x[i] = (Math.sin(i * 0.013) + 1) / 2;
  const out = {};
  let t = performance.now();
  const kiln = await KilnModel.load(new URL('/kiln/', location.href));
  let [k] = await kiln.run([x]);
  out.kilnFirst = performance.now() - t;
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
  const kt = [], tt = [], ratios = [];
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
  out.renderer = kiln.renderer;
  out.tfjsVersion = tf.version.tfjs;
  return out;
};
window.ready = true;
</script>`;

const types = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json' };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (path === '/bench.html') return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  const file = path === '/tf.min.js' ? join(root, 'scripts/node/node_modules/@tensorflow/tfjs/dist/tf.min.js')
    : path.startsWith('/kiln/') ? join(bundle, path.slice(6))
    : path.startsWith('/tfjs/') ? join(tfjsModel, path.slice(6)) : null;
  if (!file || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
  createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const { launchChromium } = await import(join(root, 'scripts/node/chromium.mjs'));
const { context, profile } = await launchChromium();
try {
  const p = context.pages()[0] ?? (await context.newPage());
  await p.goto(`http://127.0.0.1:${server.address().port}/bench.html`);
  await p.waitForFunction(() => window.ready);
  p.setDefaultTimeout(0);
  const r = await p.evaluate((n) => window.bench(n), runs);
  console.log(`browser: Chromium headless, WebGL2 on ${r.renderer}; TF.js ${r.tfjsVersion} (webgl backend); ${runs} runs`);
  console.log('model: nsfwjs MobileNet v2 (TF.js layers model, 224x224x3)');
  console.log(`${'runtime'.padEnd(10)} ${'first_ms'.padStart(10)} ${'steady_ms'.padStart(10)}`);
  console.log(`${'kiln'.padEnd(10)} ${r.kilnFirst.toFixed(1).padStart(10)} ${r.kiln.toFixed(1).padStart(10)}`);
  console.log(`${'tfjs'.padEnd(10)} ${r.tfjsFirst.toFixed(1).padStart(10)} ${r.tfjs.toFixed(1).padStart(10)}`);
  const rs = [...r.ratios].sort((a, b) => a - b);
  console.log(`ratio (tfjs / kiln, steady): ${(r.tfjs / r.kiln).toFixed(3)}x of the medians; per pair ` +
    `median ${rs[Math.floor(rs.length / 2)].toFixed(3)}x, range ${rs[0].toFixed(3)}-${rs[rs.length - 1].toFixed(3)}x; ` +
    `max |kiln - tfjs| ${r.maxDiff.toExponential(2)}`);
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
