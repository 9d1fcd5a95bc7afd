// Kiln's WebGL runtime against onnxruntime-web's WebGL execution provider in the same headless
// Chromium (SwiftShader), same page, same ONNX file, same input: the two take turns (one Kiln
// inference, one onnxruntime-web inference, ...), so a change in the machine's load hits both
// alike. Prints the median of RUNS steady-state inferences of each, the ratio of the medians
// and the median and range of the per-turn ratios (> 1: Kiln is faster), and the largest
// difference between the two outputs. `kiln bench --anchors ort-webgl` times the two one after
// the other, in separate browsers, which on a shared machine measures the load as much as
// the code; this is the comparison to quote.
//
//   node benchmarks/webgl_vs_ort_webgl.mjs [MODEL.onnx] [RUNS]   (default: ResNet-18, 5 runs)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const build = process.env.KILN_BUILD ?? join(root, 'build/release');
const model = resolve(process.argv[2] ?? join(build, 'models/resnet18.onnx'));
const runs = Number(process.argv[3] ?? 5);
if (!existsSync(model)) {
  console.error(`${model} is missing: run ctest --test-dir ${build} -R gen_models`);
  process.exit(2);
}
const dist = join(root, 'scripts/node/node_modules/onnxruntime-web/dist');
if (!existsSync(join(dist, 'ort.all.min.js'))) {
  console.error(`${dist}/ort.all.min.js is missing (npm onnxruntime-web; run scripts/setup.sh)`);
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'kiln-webgl-ort-'));
const bundle = join(work, 'kiln');
const c = spawnSync(join(build, 'bin/kiln'), ['compile', model, '--target', 'webgl', '--bundle', bundle], { encoding: 'utf8' });
if (c.status !== 0) throw new Error(c.stderr);

const page = `<!doctype html><meta charset="utf-8"><script src="/ort/ort.all.min.js"></script>
<script type="module">
import { KilnModel } from '/kiln/kiln.js';
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
window.bench = async (runs) => {
  const kiln = await KilnModel.load(new URL('/kiln/', location.href));
  const input = kiln.inputs[0];
  const x = Float32Array.from({ length: input.numel }, (_, i) => Math.sin(i * 0.013));
  let [k] = await kiln.run([x]);
  ort.env.wasm.wasmPaths = '/ort/';
  const session = await ort.InferenceSession.create('/model.onnx', { executionProviders: ['webgl'] });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, input.shape) };
  const ortRun = async () => {
    const r = await session.run(feeds);
    const y = await r[session.outputNames[0]].getData();  // on the CPU, as Kiln's run returns it
    for (const n in r) r[n].dispose?.();
    return y;
  };
  let y = await ortRun();
  const kt = [], ot = [], ratios = [];
  for (let r = 0; r < runs; ++r) {
    let t = performance.now();
    [k] = await kiln.run([x]);
    kt.push(performance.now() - t);
    t = performance.now();
    y = await ortRun();
    ot.push(performance.now() - t);
    ratios.push(ot[r] / kt[r]);
  }
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < k.length; ++i) {
    maxDiff = Math.max(maxDiff, Math.abs(k[i] - y[i]));
    maxRef = Math.max(maxRef, Math.abs(y[i]));
  }
  return { kiln: median(kt), ort: median(ot), ratios, maxDiff, maxRef, renderer: kiln.renderer,
    version: ort.env.versions?.web ?? '?' };
};
window.ready = true;
</script>`;

const { serveLocal } = await import(join(root, 'scripts/node/local_server.mjs'));
const server = await serveLocal((path) =>
  path === '/bench.html' ? { body: page }
    : path === '/model.onnx' ? model
    : path.startsWith('/ort/') ? join(dist, path.slice(5))
    : path.startsWith('/kiln/') ? join(bundle, path.slice(6)) : null);
const { launchChromium, openReadyPage } = await import(join(root, 'scripts/node/chromium.mjs'));
const { context, profile } = await launchChromium();
try {
  const p = await openReadyPage(context, `http://127.0.0.1:${server.address().port}/bench.html`);
  const r = await p.evaluate((n) => window.bench(n), runs);
  const rs = [...r.ratios].sort((a, b) => a - b);
  console.log(`browser: Chromium headless, WebGL2 on ${r.renderer}; onnxruntime-web ${r.version} (webgl EP); ${runs} turns`);
  console.log(`model: ${model}`);
  console.log(`kiln ${r.kiln.toFixed(1)} ms, ort-webgl ${r.ort.toFixed(1)} ms (medians)`);
  console.log(`ratio (ort-webgl / kiln, steady): ${(r.ort / r.kiln).toFixed(3)}x of the medians; per turn ` +
    `median ${rs[Math.floor(rs.length / 2)].toFixed(3)}x, range ${rs[0].toFixed(3)}-${rs[rs.length - 1].toFixed(3)}x; ` +
    `max |kiln - ort| ${r.maxDiff.toExponential(2)} (max |ort| ${r.maxRef.toFixed(3)})`);
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
