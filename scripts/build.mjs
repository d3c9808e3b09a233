#!/usr/bin/env node
// Builds what `npm start` runs: the server from src/ into dist/ (one file per
// module, no bundling) and the browser bundles from web/ into dist/web/.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sources(folder) {
  const found = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      found.push(...sources(full));
    } else if (
      entry.name.endsWith('.ts') &&
      !entry.name.endsWith('.test.ts') &&
      !entry.name.endsWith('.d.ts')
    ) {
      found.push(full);
    }
  }
  return found;
}

const started = Date.now();
rmSync(path.join(root, 'dist', 'server'), { recursive: true, force: true });
await build({
  entryPoints: sources(path.join(root, 'src')),
  outdir: path.join(root, 'dist', 'server'),
  outbase: path.join(root, 'src'),
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});

const { buildWebBundles } = await import('./build-web.mjs');
await buildWebBundles(root);
console.log(`built dist/ in ${Date.now() - started} ms`);
