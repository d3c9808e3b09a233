import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createKindPolicy } from './kind-rules.js';
import { prepareCatalogText } from './prepare-file.js';
import { PreparePool } from './prepare-pool.js';
import { createTargetScope } from './target-scope.js';

const options = {
  kindPolicy: createKindPolicy(undefined, undefined),
  scope: createTargetScope('/catalog/*.yaml'),
};

function componentFile(index: number): { file: string; text: string } {
  return {
    file: `/catalog/file-${index}.yaml`,
    text: `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: svc-${index} }
spec: { type: service, lifecycle: production, owner: team-${index} }
`,
  };
}

test('pool shares jobs with the calling thread', async () => {
  const pool = new PreparePool(1);
  try {
    const files = Array.from({ length: 12 }, (_, index) => componentFile(index));
    const results = files.map(({ file, text }) => pool.prepare(file, text, options));

    // The worker is still starting, so the first jobs are free to take here.
    assert.equal(await pool.prepareOneHere(), true);
    assert.equal(await pool.prepareOneHere(), true);

    const prepared = await Promise.all(results);
    for (const [index, { file, text }] of files.entries()) {
      const expected = await prepareCatalogText(file, text, options);
      assert.equal(prepared[index]?.file, file);
      assert.deepEqual(
        prepared[index]?.entities.map((entity) => entity.ref),
        [`component:default/svc-${index}`],
      );
      assert.equal(prepared[index]?.entities[0]?.etag, expected.entities[0]?.etag);
    }
    assert.equal(await pool.prepareOneHere(), false);
  } finally {
    await pool.close();
  }
});

test('pool rejects jobs after it is closed', async () => {
  const pool = new PreparePool(1);
  await pool.close();
  const { file, text } = componentFile(0);
  await assert.rejects(pool.prepare(file, text, options), /pool is closed/);
  assert.equal(await pool.prepareOneHere(), false);
});
