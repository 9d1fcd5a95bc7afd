// The RPC page's logic: connect to the `kiln rpc serve` that served this page, say hello as
// the device with the token from the URL's fragment (#token=..., never sent over HTTP), and
// answer requests: load (a package's files in one message) and run (tensors in, tensors and
// the time out). Frames are Kiln RPC frames (docs/rpc.md), one per binary WebSocket message.
import { KilnModel } from './kiln.js';

const MAGIC = 0x4350524b;
const VERSION = 1;
const $ = (id) => document.getElementById(id);
const status = (text, error = false) => {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
};
const log = (line) => {
  $('log').textContent = `${new Date().toISOString().slice(11, 19)} ${line}\n` + $('log').textContent.slice(0, 4000);
};

export function encodeFrame(header, body = new Uint8Array(0)) {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const buf = new ArrayBuffer(20 + h.length + body.byteLength);
  const dv = new DataView(buf);
  dv.setUint32(0, MAGIC, true);
  dv.setUint16(4, VERSION, true);
  dv.setUint16(6, 0, true);
  dv.setUint32(8, h.length, true);
  dv.setBigUint64(12, BigInt(body.byteLength), true);
  new Uint8Array(buf, 20, h.length).set(h);
  new Uint8Array(buf, 20 + h.length).set(new Uint8Array(body.buffer ?? body, body.byteOffset ?? 0, body.byteLength));
  return buf;
}

export function decodeFrame(buf) {
  const dv = new DataView(buf);
  if (buf.byteLength < 20 || dv.getUint32(0, true) !== MAGIC) throw new Error('not a Kiln RPC frame (bad magic)');
  if (dv.getUint16(4, true) !== VERSION) throw new Error(`RPC protocol version ${dv.getUint16(4, true)} is not supported`);
  const hlen = dv.getUint32(8, true);
  const blen = Number(dv.getBigUint64(12, true));
  if (20 + hlen + blen !== buf.byteLength) throw new Error('RPC frame length does not match its message');
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 20, hlen)));
  return { header, body: buf.slice(20 + hlen) };
}

let model = null;

async function handle(header, body) {
  if (header.op === 'ping') return [{ op: 'pong' }];
  if (header.op === 'load') {
    const files = new Map();
    let offset = 0;
    for (const f of header.files) {
      files.set(f.name, body.slice(offset, offset + f.bytes));
      offset += f.bytes;
    }
    if (offset !== body.byteLength) throw new Error('load: the file list does not match the body');
    model?.dispose();
    model = null;
    const t = performance.now();
    model = await KilnModel.fromFiles(files);
    const ms = performance.now() - t;
    log(`loaded ${model.manifest.model}: ${model.passes.length} passes, ${model.programCount} programs, in ${ms.toFixed(0)} ms`);
    return [{ op: 'ok', target: `webgl on ${model.renderer}`, load_ms: ms, passes: model.passes.length }];
  }
  if (header.op === 'run') {
    if (!model) throw new Error('run before load: send the package first');
    const feeds = {};
    let offset = 0;
    for (const t of header.tensors ?? []) {
      if (t.dtype !== 'f32') throw new Error(`input '${t.name}' is ${t.dtype}; WebGL packages take f32`);
      const n = t.shape.reduce((a, b) => a * b, 1);
      feeds[t.name] = new Float32Array(body.slice(offset, offset + n * 4));
      offset += n * 4;
    }
    const t0 = performance.now();
    const outs = await model.run(feeds);
    const ms = performance.now() - t0;
    const total = outs.reduce((a, o) => a + o.byteLength, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const y of outs) {
      out.set(new Uint8Array(y.buffer), o);
      o += y.byteLength;
    }
    log(`run: ${ms.toFixed(1)} ms`);
    return [{
      op: 'ok',
      ms,
      tensors: model.outputs.map((v) => ({ name: v.name, dtype: 'f32', shape: v.shape })),
    }, out];
  }
  throw new Error(`unknown operation '${header.op}'`);
}

function connect() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) {
    status('No token: open this page as http://HOST:PORT/#token=<the server\'s token>.', true);
    return;
  }
  const ws = new WebSocket(`ws://${location.host}/ws`);
  ws.binaryType = 'arraybuffer';
  window.kiln = { connected: false };
  ws.onopen = () => ws.send(encodeFrame({ op: 'hello', token, role: 'device', client: navigator.userAgent }));
  ws.onmessage = async (ev) => {
    let header, body;
    try {
      ({ header, body } = decodeFrame(ev.data));
    } catch (e) {
      ws.send(encodeFrame({ op: 'error', message: e.message }));
      return;
    }
    if (header.op === 'welcome') {
      status('Connected: waiting for work (kiln run PACKAGE --rpc ws://HOST:PORT).');
      window.kiln.connected = true;
      return;
    }
    if (header.op === 'error') {
      status(`The server refused: ${header.message}`, true);
      return;
    }
    try {
      const [h, b] = await handle(header, body);
      ws.send(encodeFrame(h, b));
    } catch (e) {
      log(`${header.op} failed: ${e.message}`);
      ws.send(encodeFrame({ op: 'error', message: e.message }));
    }
  };
  ws.onclose = (ev) => {
    window.kiln.connected = false;
    status(`Disconnected${ev.reason ? ': ' + ev.reason : ''}. Reload to reconnect.`, true);
  };
}

connect();
