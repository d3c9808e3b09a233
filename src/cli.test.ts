import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestPortal } from '../test/support/portal.js';
import { createCommandRegistry } from './cli.js';

test('command registry matches the server', async () => {
  const portal = await startTestPortal();
  try {
    const server = portal.portal.permissions.registry;
    const commands = createCommandRegistry();

    assert.deepEqual(commands.listPermissions(), server.listPermissions());
    assert.deepEqual(
      commands.listRules().map((rule) => `${rule.resourceType}/${rule.name}`),
      server.listRules().map((rule) => `${rule.resourceType}/${rule.name}`),
    );
  } finally {
    await portal.close();
  }
});
