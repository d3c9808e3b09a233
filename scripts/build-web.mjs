// Builds the browser code from web/ into dist/web/: the shell script
// (web/shell/main.ts → shell/shell.js) with its logo and stylesheet, one
// bundle per micro frontend (web/micro-frontends/<name>/main.ts →
// micro-frontends/<name>/main.js, next to a copy of its index.html) and the
// shared stylesheet.
import { createHash, randomUUID } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** File in the output folder that records which sources it was built from. */
const STAMP_FILE = '.sources-stamp';

/**
 * Builds every bundle under `root`/web into `outdir` (default
 * `root`/dist/web), replacing what was there. Test files running at the same
 * time call this while other tests' servers read `outdir`. So it builds into
 * a fresh folder beside `outdir` and swaps the folders with two renames. It
 * skips the build when `outdir` was built from the same sources: the paths,
 * sizes and modification times of web/ and of this script.
 */
export async function buildWebBundles(root, options = {}) {
  const web = path.join(root, 'web');
  const target = options.outdir ?? path.join(root, 'dist', 'web');
  const stamp = stampSources(web);
  const stampPath = path.join(target, STAMP_FILE);
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) {
    return { outdir: target, microFrontends: listMicroFrontends(web) };
  }

  const outdir = `${target}.build-${process.pid}-${randomUUID()}`;
  try {
    const built = await buildInto(web, outdir);
    writeFileSync(path.join(outdir, STAMP_FILE), stamp);
    swapFolders(outdir, target);
    return { outdir: target, microFrontends: built.microFrontends };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function listMicroFrontends(web) {
  return readdirSync(path.join(web, 'micro-frontends'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .filter((name) => existsSync(path.join(web, 'micro-frontends', name, 'main.ts')));
}

/** Hashes the path, size and modification time of every file below `web` and of this script. */
function stampSources(web) {
  const hash = createHash('sha256');
  const visit = (folder) => {
    // Names in one folder are unique, so no two entries compare equal.
    const entries = readdirSync(folder, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    for (const entry of entries) {
      const file = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        visit(file);
      } else if (entry.isFile()) {
        const stat = statSync(file);
        hash.update(`${file}\0${stat.size}\0${stat.mtimeMs}\n`);
      }
    }
  };
  visit(web);
  const script = fileURLToPath(import.meta.url);
  const stat = statSync(script);
  hash.update(`${script}\0${stat.size}\0${stat.mtimeMs}\n`);
  return hash.digest('hex');
}

/**
 * Moves `built` to `target`. A reader can miss `target` only between the two
 * renames, not for the length of a build. When another process puts its
 * own build in place between the two renames, that build stays and this one
 * is dropped by the caller.
 */
function swapFolders(built, target) {
  const old = `${target}.old-${process.pid}-${randomUUID()}`;
  if (existsSync(target)) {
    renameSync(target, old);
  }
  try {
    renameSync(built, target);
  } catch (error) {
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') {
      throw error;
    }
  }
  rmSync(old, { recursive: true, force: true });
}

async function buildInto(web, outdir) {
  const microFrontends = listMicroFrontends(web);

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
