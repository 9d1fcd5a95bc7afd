// Headless Chromium as Kiln's browser tests and benchmarks start it: Debian's /usr/bin/chromium
// driven by playwright-core, WebGL2 on SwiftShader (EXT_color_buffer_float included), no
// background traffic, and a fresh profile each time (the caller removes `profile` when done).
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--use-gl=angle', '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];

export async function launchChromium() {
  const profile = mkdtempSync(join(tmpdir(), 'kiln-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return { context, profile };
}

// A benchmark page: opened in the context's first tab, waited for until it sets window.ready,
// then allowed to run as long as it needs (a model on a CPU rasterizer can take minutes).
export async function openReadyPage(context, url) {
  const p = context.pages()[0] ?? (await context.newPage());
  await p.goto(url);
  await p.waitForFunction(() => window.ready);
  p.setDefaultTimeout(0);
  return p;
}
