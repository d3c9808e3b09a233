import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryAdapterFactory } from './development-adapter.js';

test('development storage stays bounded', async () => {
  const adapter = createMemoryAdapterFactory()('Interaction');

  for (let index = 0; index < 60_000; index++) {
    await adapter.upsert(`interaction-${index}`, { uid: `uid-${index}` }, 3600);
  }

  assert.equal(await adapter.find('interaction-0'), undefined);
  assert.deepEqual(await adapter.find('interaction-59999'), { uid: 'uid-59999' });
});

test('development storage drops expired items', async () => {
  const adapter = createMemoryAdapterFactory()('Session');

  await adapter.upsert('gone', { uid: 'u1' }, -1);

  assert.equal(await adapter.find('gone'), undefined);
});
