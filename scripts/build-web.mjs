// Builds the browser code from web/ into dist/web/: the shell script
// (web/shell/main.ts → shell/shell.js) with its logo and stylesheet, one
// bundle per micro frontend (web/micro-frontends/<name>/main.ts →
// micro-frontends/<name>/main.js, next to a copy of its index.html) and the
// shared stylesheet.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

/**
 * Builds every bundle under `root`/web into `outdir` (default
 * `root`/dist/web), replacing what was there.
 */
export async function buildWebBundles(root, options = {}) {
  const web = path.join(root, 'web');
  const outdir = options.outdir ?? path.join(root, 'dist', 'web');
  const microFrontends = readdirSync(path.join(web, 'micro-frontends'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .filter((name) => existsSync(path.join(web, 'micro-frontends', name, 'main.ts')));

  const entryPoints = {
    'shell/shell': path.join(web, 'shell', 'main.ts'),
    'micro-frontends/common/styles': path.join(web, 'micro-frontends', 'common', 'styles.css'),
  };
  for (const name of microFrontends) {
    entryPoints[`micro-frontends/${name}/main`] = path.join(
      web,
      'micro-frontends',
      name,
      'main.ts',
    );
  }

  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints,
    outdir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });

  for (const file of ['logo.svg', 'shell.css']) {
    copyFileSync(path.join(web, 'shell', file), path.join(outdir, 'shell', file));
  }
  for (const name of microFrontends) {
    const page = path.join(web, 'micro-frontends', name, 'index.html');
    if (existsSync(page)) {
      mkdirSync(path.join(outdir, 'micro-frontends', name), { recursive: true });
      copyFileSync(page, path.join(outdir, 'micro-frontends', name, 'index.html'));
    }
  }
  return { outdir, microFrontends };
}
