import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { builtInRequestTypes, parametersJsonSchema } from '../../src/workflows/index.js';
import type { RequestType } from '../../web/micro-frontends/common/workflow-api.js';
import {
  fieldOfErrorPath,
  fieldsOf,
  initialType,
  readParameters,
} from '../../web/micro-frontends/requests/form-model.js';

/**
 * The request form of the Requests micro frontend, built from the JSON
 * Schemas that GET /api/workflows/types returns for the built-in types.
 */

const types: RequestType[] = builtInRequestTypes.map((type) => ({
  name: type.name,
  description: type.description,
  createPermission: type.createPermission,
  entity: type.entity ?? 'none',
  reasonRequired: type.reasonRequired ?? false,
  executor: null,
  parameters: parametersJsonSchema(type),
}));

const SERVICE_REF = 'component:default/booking-api';

function typeNamed(name: string): RequestType {
  const found = types.find((type) => type.name === name);
  assert.ok(found, `built-in type ${name} exists`);
  return found;
}

describe('request form model', () => {
  test('deployment fields from its schema', () => {
    const fields = fieldsOf(typeNamed('deployment'));

    assert.deepEqual(
      fields.map((field) => [field.name, field.kind, field.required]),
      [
        ['entity', 'text', true],
        ['environment', 'text', true],
        ['version', 'text', false],
        ['gitRef', 'text', false],
      ],
    );
    assert.equal(fields[3]?.label, 'Git ref');
  });

  test('aws-credentials duration is an integer field', () => {
    const duration = fieldsOf(typeNamed('aws-credentials')).find(
      (field) => field.name === 'durationSeconds',
    );

    assert.equal(duration?.kind, 'integer');
    assert.equal(duration?.required, true);
    assert.equal(duration?.hint, '900 to 43200');
  });

  test('enum and boolean properties', () => {
    const fields = fieldsOf({
      ...typeNamed('role-elevation'),
      parameters: {
        type: 'object',
        properties: {
          region: { type: 'string', enum: ['eu', 'us'] },
          dryRun: { type: 'boolean' },
        },
      },
    });

    assert.deepEqual(fields[0]?.options, ['eu', 'us']);
    assert.equal(fields[0]?.kind, 'select');
    assert.equal(fields[0]?.label, 'Region');
    assert.equal(fields[1]?.kind, 'checkbox');
    assert.equal(fields[1]?.label, 'Dry run');
  });

  test('parameters leave out empty fields', () => {
    const fields = fieldsOf(typeNamed('deployment'));
    const parameters = readParameters(fields, {
      entity: ' component:default/booking-api ',
      environment: 'production',
      version: '1.4.2',
      gitRef: '  ',
    });

    assert.deepEqual(parameters, {
      entity: 'component:default/booking-api',
      environment: 'production',
      version: '1.4.2',
    });
  });

  test('role choices become a select', () => {
    const type = builtInRequestTypes.find((candidate) => candidate.name === 'role-elevation');
    assert.ok(type);
    const fields = fieldsOf({
      ...typeNamed('role-elevation'),
      parameters: parametersJsonSchema(type, { role: ['developer', 'site-reliability'] }),
    });
    const role = fields.find((field) => field.name === 'role');
    assert.equal(role?.kind, 'select');
    assert.deepEqual(role?.options, ['developer', 'site-reliability']);
    assert.equal(fields.find((field) => field.name === 'durationSeconds')?.kind, 'integer');
  });

  test('parameters parse numbers', () => {
    const fields = fieldsOf(typeNamed('role-elevation'));

    assert.deepEqual(readParameters(fields, { role: 'admin', durationSeconds: '3600' }), {
      role: 'admin',
      durationSeconds: 3600,
    });
    assert.deepEqual(readParameters(fields, { role: 'admin', durationSeconds: 'an hour' }), {
      role: 'admin',
      durationSeconds: 'an hour',
    });
  });

  test('error paths map to fields', () => {
    const fields = fieldsOf(typeNamed('deployment'));
    const cases: Array<[string, string | undefined]> = [
      ['parameters.environment', 'environment'],
      ['parameters.version', 'version'],
      ['reason', 'reason'],
      ['parameters.unknown', undefined],
      ['parameters', undefined],
      ['type', undefined],
    ];

    for (const [path, expected] of cases) {
      assert.equal(fieldOfErrorPath(path, fields), expected, path);
    }
  });

  test('initial type from route or entity', () => {
    assert.equal(initialType(types, 'role-elevation', undefined)?.name, 'role-elevation');
    assert.equal(initialType(types, 'no-such-type', undefined)?.name, types[0]?.name);
    const withEntity = initialType(
      [typeNamed('role-elevation'), typeNamed('deployment')],
      undefined,
      'component:default/booking-api',
    );
    assert.equal(withEntity?.name, 'deployment');
    assert.equal(initialType(types, undefined, SERVICE_REF)?.name, 'deployment');
    assert.equal(
      initialType(
        [typeNamed('role-elevation'), typeNamed('aws-credentials')],
        undefined,
        SERVICE_REF,
      )?.name,
      'aws-credentials',
    );
  });
});
