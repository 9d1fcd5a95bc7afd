// First inference of Kiln WebGL bundles in headless Chromium (WebGL2 on SwiftShader): the time
// from KilnModel.load (its files fetched from a local server) to the first output read back,
// each time in a fresh browser (new profile: nothing compiled earlier is cached), and the
// median of three steady-state runs after it. Bundles are timed in turn, ROUNDS times each
// (A B A B ...), so bundles made by two versions of kiln (each carries its own kiln.js) are
// compared under the same machine load. With --breakdown, the last bundle is loaded once more
// with { timing: true } and kiln.js's report printed (where the time went, per program).
//
//   node benchmarks/webgl_first_inference.mjs [--rounds N] [--breakdown] BUNDLE...
//   (a bundle: kiln compile MODEL --target webgl --bundle DIR)
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let rounds = 3, breakdown = false;
const bundles = [];
for (let i = 0; i < args.length; ++i) {
  if (args[i] === '--rounds') rounds = Number(args[++i]);
  else if (args[i] === '--breakdown') breakdown = true;
  else bundles.push(resolve(args[i]));
}
if (!bundles.length || !(rounds >= 1) || bundles.some((b) => !existsSync(join(b, 'manifest.json')))) {
  console.error('usage: node benchmarks/webgl_first_inference.mjs [--rounds N] [--breakdown] BUNDLE...');
  console.error('  (each BUNDLE a folder written by kiln compile MODEL --target webgl --bundle BUNDLE)');
  process.exit(2);
}

const page = `<!doctype html><meta charset="utf-8"><script type="module">
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
window.bench = async (base, timing) => {
  const { KilnModel } = await import(base + 'kiln.js');
  const t = performance.now();
  const m = await KilnModel.load(new URL(base, location.href), { timing });
  const load = performance.now() - t;
  const x = m.inputs.map((v) => new Float32Array(v.numel).map((_, i) => Math.sin(i * 0.013)));
  await m.run(x);
  const first = performance.now() - t;
  const steady = [];
  for (let r = 0; r < 3; ++r) {
    const t1 = performance.now();
    await m.run(x);
    steady.push(performance.now() - t1);
  }
  return { load, first, steady: median(steady), passes: m.passes.length,
    programs: m.programCount ?? m.programs.size, report: timing ? m.timingReport() : '' };
};
window.ready = true;
</script>`;
const { serveLocal } = await import(join(root, 'scripts/node/local_server.mjs'));
const server = await serveLocal((path) => {
  if (path === '/bench.html') return { body: page };
  const m = /^\/b(\d+)\/(.*)$/.exec(path);
  return m && bundles[Number(m[1])] ? join(bundles[Number(m[1])], m[2]) : null;
});
const { launchChromium, openReadyPage } = await import(join(root, 'scripts/node/chromium.mjs'));
async function once(i, timing) {
  const { context, profile } = await launchChromium();
  try {
    const p = await openReadyPage(context, `http://127.0.0.1:${server.address().port}/bench.html`);
    return await p.evaluate(([base, t]) => window.bench(base, t), [`/b${i}/`, timing]);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const results = bundles.map(() => []);
try {
  const load0 = loadavg()[0];
  for (let r = 0; r < rounds; ++r) for (let i = 0; i < bundles.length; ++i) results[i].push(await once(i, false));
  console.log(`Chromium headless, WebGL2 on SwiftShader; ${cpus().length} CPUs, load average ` +
    `${load0.toFixed(2)} -> ${loadavg()[0].toFixed(2)}; ${rounds} rounds, each bundle in a fresh browser`);
  console.log('first = from KilnModel.load to the first output (load + first run); steady = median of 3 runs after it');
  console.log(`${'bundle'.padEnd(40)} ${'model'.padEnd(22)} passes programs  first_ms (min..max)      load_ms  steady_ms`);
  results.forEach((rs, i) => {
    const m = JSON.parse(readFileSync(join(bundles[i], 'manifest.json'), 'utf8'));
    const firsts = rs.map((r) => r.first);
    console.log(`${bundles[i].slice(-40).padEnd(40)} ${String(m.model).slice(0, 22).padEnd(22)} ` +
      `${String(rs[0].passes).padStart(6)} ${String(rs[0].programs).padStart(8)} ` +
      `${median(firsts).toFixed(0).padStart(9)} (${Math.min(...firsts).toFixed(0)}..${Math.max(...firsts).toFixed(0)})`.padEnd(28) +
      `${median(rs.map((r) => r.load)).toFixed(0).padStart(9)} ${median(rs.map((r) => r.steady)).toFixed(0).padStart(10)}`);
  });
  if (breakdown) {
    const r = await once(bundles.length - 1, true);
    console.log(`\n${bundles.at(-1)} with { timing: true }: first inference ${r.first.toFixed(0)} ms\n${r.report}`);
  }
} finally {
  server.close();
}
