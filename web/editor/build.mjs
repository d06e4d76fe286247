// Bundles every editor of src/*.js (one per production kind) into
// ../static/editor/ as ES modules; what they share (Yjs, y-websocket,
// ProseMirror, src/lib/) goes to chunks loaded once by the browser.
// modules.json names, per kind, the chunks its entry imports, so that the
// editor page asks for them at once (modulepreload) instead of after the
// entry has arrived.
import { build } from 'esbuild';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, relative } from 'node:path';

const outdir = '../static/editor';
const entryPoints = readdirSync('src').filter((f) => f.endsWith('.js')).map((f) => 'src/' + f);
rmSync(outdir + '/chunks', { recursive: true, force: true });
const { metafile } = await build({
  entryPoints,
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  target: 'es2020',
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'linked',
  logLevel: 'info',
  metafile: true,
});
const modules = {};
for (const [out, meta] of Object.entries(metafile.outputs)) {
  if (!meta.entryPoint) continue;
  modules[basename(meta.entryPoint, '.js')] = meta.imports
    .filter((i) => i.kind === 'import-statement')
    .map((i) => relative(outdir, i.path))
    .sort();
}
writeFileSync(outdir + '/modules.json', JSON.stringify(modules, null, 2) + '\n');
