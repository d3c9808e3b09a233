import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ROLES_SCHEMA_DOC, rolesFileJsonSchema } from './roles-schema.js';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('published roles schema is current', () => {
  const published = JSON.parse(readFileSync(path.join(PROJECT_ROOT, ROLES_SCHEMA_DOC), 'utf8'));
  assert.deepEqual(
    published,
    rolesFileJsonSchema(),
    `${ROLES_SCHEMA_DOC} is out of date: run backstage-luigi policy schema > ${ROLES_SCHEMA_DOC}`,
  );
});

test('roles schema rejects unknown keys and requires grants', () => {
  const schema = rolesFileJsonSchema() as {
    additionalProperties: boolean;
    properties: { roles: { items: { required: string[]; additionalProperties: boolean } } };
  };
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.properties.roles.items.required, ['name', 'grants']);
  assert.equal(schema.properties.roles.items.additionalProperties, false);
});
