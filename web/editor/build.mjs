// Bundles every editor of src/*.js (one per production kind) into
// ../static/editor/ as ES modules; what they share (Yjs, y-websocket,
// ProseMirror, src/lib/) goes to chunks loaded once by the browser.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';

const entryPoints = readdirSync('src').filter((f) => f.endsWith('.js')).map((f) => 'src/' + f);
rmSync('../static/editor/chunks', { recursive: true, force: true });
await build({
  entryPoints,
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  target: 'es2020',
  outdir: '../static/editor',
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'linked',
  logLevel: 'info',
});
