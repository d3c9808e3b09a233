import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkRunbookPath, readRunbookFile } from './runbook-file.js';

describe('checkRunbookPath', () => {
  const rejected: Array<[string, RegExp]> = [
    ['', /is empty/],
    ['../secrets.md', /'\.\.' is not allowed/],
    ['docs/../../secrets.md', /'\.\.' is not allowed/],
    ['docs\\..\\..\\secrets.md', /'\.\.' is not allowed/],
    ['/etc/runbook.md', /absolute paths are not read/],
    ['C:\\runbook.md', /URLs are not read|absolute paths/],
    ['\\\\server\\share\\runbook.md', /absolute paths are not read/],
    ['https://wiki.example/runbook.md', /URLs are not read/],
    ['file:///etc/runbook.md', /URLs are not read/],
    ['./app-config.yaml', /markdown file ending in \.md or \.markdown/],
    ['./runbook', /markdown file/],
    ['./run\u0000book.md', /NUL character/],
  ];
  for (const [value, message] of rejected) {
    test(`rejects ${JSON.stringify(value)}`, () => {
      const fault = checkRunbookPath(value);
      assert.equal(fault?.code, 'RUNBOOK_PATH_INVALID');
      assert.match(fault.message, message);
    });
  }

  for (const value of ['./runbook.md', 'docs/runbook.md', 'docs/On Call.MARKDOWN', './a..b.md']) {
    test(`accepts ${JSON.stringify(value)}`, () => {
      assert.equal(checkRunbookPath(value), undefined);
    });
  }
});

describe('readRunbookFile', () => {
  let root: string;
  let folder: string;

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'runbook-file-'));
    folder = path.join(root, 'service');
    mkdirSync(path.join(folder, 'docs'), { recursive: true });
    mkdirSync(path.join(folder, 'folder.md'));
    writeFileSync(path.join(folder, 'docs', 'runbook.md'), '# Restart\n');
    writeFileSync(path.join(root, 'outside.md'), '# Outside\n');
    writeFileSync(path.join(folder, 'large.md'), 'x'.repeat(101));
    symlinkSync(path.join(root, 'outside.md'), path.join(folder, 'escape.md'));
    symlinkSync(root, path.join(folder, 'parent'));
    symlinkSync(path.join(folder, 'docs', 'runbook.md'), path.join(folder, 'inside.md'));
    symlinkSync(path.join(folder, 'gone.md'), path.join(folder, 'dangling.md'));
    execFileSync('mkfifo', [path.join(folder, 'pipe.md')]);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('reads a file in a subfolder', async () => {
    const result = await readRunbookFile(folder, './docs/runbook.md');
    assert.deepEqual(result, { ok: true, text: '# Restart\n' });
  });

  test('reads a link that stays inside', async () => {
    const result = await readRunbookFile(folder, 'inside.md');
    assert.deepEqual(result, { ok: true, text: '# Restart\n' });
  });

  const faults: Array<[string, string, RegExp]> = [
    ['escape.md', 'RUNBOOK_PATH_OUTSIDE', /symbolic link/],
    ['parent/outside.md', 'RUNBOOK_PATH_OUTSIDE', /leads outside/],
    ['missing.md', 'RUNBOOK_NOT_FOUND', /'missing\.md' was not found/],
    ['dangling.md', 'RUNBOOK_NOT_FOUND', /was not found/],
    ['docs/runbook.md/x.md', 'RUNBOOK_NOT_FOUND', /was not found/],
    ['large.md', 'RUNBOOK_TOO_LARGE', /larger than 100 bytes/],
    ['folder.md', 'RUNBOOK_UNREADABLE', /not a regular file/],
    ['pipe.md', 'RUNBOOK_UNREADABLE', /not a regular file/],
    ['../outside.md', 'RUNBOOK_PATH_INVALID', /'\.\.' is not allowed/],
  ];
  for (const [relativePath, code, message] of faults) {
    test(`reports ${code} for ${relativePath}`, async () => {
      const result = await readRunbookFile(folder, relativePath, 100);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.fault.code, code);
      assert.match(!result.ok ? result.fault.message : '', message);
    });
  }

  test('reports a missing folder as not found', async () => {
    const result = await readRunbookFile(path.join(root, 'nowhere'), 'runbook.md');
    assert.equal(!result.ok && result.fault.code, 'RUNBOOK_NOT_FOUND');
  });
});
