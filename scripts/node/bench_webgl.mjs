// Times a Kiln WebGL bundle (`kiln compile MODEL --target webgl --bundle DIR`) in headless
// Chromium (WebGL2 on SwiftShader), for `kiln bench --targets webgl`. The bundle is served
// from 127.0.0.1 only; its page loads the model, then this script runs it on the given
// input WARMUP times untimed and RUNS times timed (performance.now() around each run, the
// answer read back), and writes the last answer's first output as .npy.
//
//   node bench_webgl.mjs BUNDLE INPUT.npy OUTPUT.npy [--runs R] [--warmup W]
//
// Prints one JSON line: {"renderer":..., "load_ms": (the page and the model), "model_load_ms":
// (KilnModel.load: fetch, compile, warm-up), "first_ms": (the first run), "first_inference_ms":
// (model_load_ms + first_ms: from loading the package to its first output), "programs",
// "passes", "times_ms":[...]}.
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { readNpy, writeNpy } = await import(join(here, 'npy.mjs'));

const args = process.argv.slice(2);
const opts = { runs: 10, warmup: 2 };
const pos = [];
for (let i = 0; i < args.length; ++i) {
  const m = /^--(runs|warmup)$/.exec(args[i]);
  if (m) opts[m[1]] = Number(args[++i]);
  else pos.push(args[i]);
}
if (pos.length !== 3 || !(opts.runs >= 1) || !(opts.warmup >= 0)) {
  console.error('usage: node bench_webgl.mjs BUNDLE INPUT.npy OUTPUT.npy [--runs R] [--warmup W]');
  process.exit(2);
}
const [bundleArg, inputPath, outputPath] = pos;
const bundle = resolve(bundleArg);
const x = readNpy(inputPath);

const { serveLocal } = await import(join(here, 'local_server.mjs'));
const server = await serveLocal((path) => join(bundle, path === '/' ? 'index.html' : path));
const { launchChromium } = await import(join(here, 'chromium.mjs'));
const { context, profile } = await launchChromium();
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.route('**/*', (route) => {
    const u = new URL(route.request().url());
    return u.hostname === '127.0.0.1' ? route.continue() : route.abort();
  });
  const t0 = Date.now();
  await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
  await page.waitForFunction(() => window.kiln, null, { timeout: 600000 });
  const error = await page.evaluate(() => window.kiln.error ?? null);
  if (error) throw new Error(`the page could not load the model: ${error}`);
  const loadMs = Date.now() - t0;
  page.setDefaultTimeout(0);
  const r = await page.evaluate(async ({ data, runs, warmup }) => {
    const m = window.kiln.model;
    const feed = { [m.inputs[0].name]: new Float32Array(data) };
    let t = performance.now();
    let [y] = await m.run(feed);
    const first = performance.now() - t;
    for (let i = 1; i < warmup; ++i) await m.run(feed);
    const times = [];
    for (let i = 0; i < runs; ++i) {
      t = performance.now();
      [y] = await m.run(feed);
      times.push(performance.now() - t);
    }
    const gl = m.gl;
    const d = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = d ? gl.getParameter(d.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    return { y: Array.from(y), times, first, renderer, shape: m.outputs[0].shape, modelLoad: m.loadMs,
      programs: m.programCount, passes: m.passes.length };
  }, { data: Array.from(x.data), runs: opts.runs, warmup: opts.warmup });
  writeNpy(outputPath, 'float32', r.shape, Float32Array.from(r.y));
  const browser = context.browser()?.version() ?? 'chromium';
  console.log(JSON.stringify({ browser, renderer: r.renderer, load_ms: loadMs, model_load_ms: r.modelLoad,
    first_ms: r.first, first_inference_ms: r.modelLoad + r.first, programs: r.programs, passes: r.passes,
    times_ms: r.times }));
} catch (e) {
  console.error(`bench_webgl: ${e.message}`);
  process.exitCode = 1;
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
