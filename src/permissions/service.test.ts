import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { PermissionRegistry } from './registry.js';
import { PermissionService } from './service.js';
import type { Principal } from './types.js';

const ada: Principal = {
  userEntityRef: 'user:default/ada',
  ownershipEntityRefs: ['user:default/ada'],
  groupEntityRefs: [],
};

function rolesGranting(permission: string): string {
  return `roles:\n  - name: r\n    members: [user:ada]\n    grants: [{ permission: ${permission} }]\n`;
}

/** Polls `check` until it returns true, failing after 5 seconds. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting until ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('roles file reload', () => {
  let folder: string;
  let file: string;
  let service: PermissionService;
  const logLines: string[] = [];

  before(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'roles-reload-'));
    file = path.join(folder, 'roles.yaml');
    writeFileSync(file, rolesGranting('report.use'));
    const registry = new PermissionRegistry();
    registry.registerPermissions(
      { name: 'report.use', action: 'use', description: 'Run reports' },
      { name: 'report.create', action: 'create', description: 'Create reports' },
    );
    service = new PermissionService(registry, file);
    const destination = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    service.watchRolesFile(pino({ level: 'info' }, destination));
  });

  after(() => {
    service.stopWatching();
    rmSync(folder, { recursive: true, force: true });
  });

  test('applies a valid change', async () => {
    assert.equal(service.authorize(ada, 'report.create').result, 'DENY');
    writeFileSync(file, rolesGranting('report.create'));
    await eventually(
      () => service.authorize(ada, 'report.create').result === 'ALLOW',
      'the new grant applies',
    );
    assert.equal(service.authorize(ada, 'report.use').result, 'DENY');
  });

  test('keeps the last good roles on a fault', async () => {
    writeFileSync(file, rolesGranting('report.nothing'));
    await eventually(
      () => logLines.some((line) => line.includes('roles file rejected')),
      'the rejection is logged',
    );
    const rejection = logLines.find((line) => line.includes('roles file rejected')) ?? '';
    assert.match(rejection, /permission 'report\.nothing' is not registered/);
    assert.equal(service.authorize(ada, 'report.create').result, 'ALLOW');
  });

  test('follows a file replaced by rename', async () => {
    const staged = path.join(folder, 'roles.yaml.new');
    writeFileSync(staged, rolesGranting('report.use'));
    renameSync(staged, file);
    await eventually(
      () => service.authorize(ada, 'report.use').result === 'ALLOW',
      'the renamed file applies',
    );
    assert.equal(service.authorize(ada, 'report.create').result, 'DENY');
  });
});
