// The local HTTP server of Kiln's browser tests and benchmarks: it listens on 127.0.0.1 only
// and serves what `route` names for a request's normalized path (a file's path, or
// { body, type } for a page made in memory); anything else is a 404, so a page that reaches
// for a file nobody routed fails visibly instead of touching the network.
//   const server = await serveLocal((path) => path === '/x.js' ? FILE : null, EXTRA_HEADERS);
//   `http://127.0.0.1:${server.address().port}/...`;  server.close();
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, normalize } from 'node:path';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.json': 'application/json', '.wasm': 'application/wasm' };

export async function serveLocal(route, headers = {}) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    const r = route(path);
    if (r && typeof r === 'object')
      return res.writeHead(200, { 'content-type': r.type ?? 'text/html', ...headers }).end(r.body);
    if (!r || !existsSync(r) || !statSync(r).isFile()) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(r)] ?? 'application/octet-stream', ...headers });
    createReadStream(r).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
