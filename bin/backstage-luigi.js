#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/server/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error(
    'backstage-luigi is not built yet: run `npm run build` in the package folder first.',
  );
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv);
