import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { createLocalJWKSet, errors, jwtVerify } from 'jose';
import type { ShellNodeConfig } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import { type Decision, PermissionRegistry, type Principal } from '../permissions/index.js';
import { loadJwtSigningKey } from './signing-key.js';
import { indexTokenNodes, issueMicroFrontendToken, maySeeTokenNode } from './token.js';

const ISSUER = 'http://127.0.0.1:7007';
const NOW = new Date('2025-03-01T12:00:00Z');

const ALICE: Principal = {
  userEntityRef: 'user:default/alice',
  ownershipEntityRefs: ['user:default/alice', 'group:default/team-a'],
  groupEntityRefs: ['group:default/team-a'],
};

/** Alice is granted deploy.run, and catalog.entity.read with conditions, nothing else. */
const permissions = {
  authorize(_principal: Principal, permission: string): Decision {
    if (permission === 'deploy.run') return { result: 'ALLOW' } as Decision;
    if (permission === 'catalog.entity.read') return { result: 'CONDITIONAL' } as Decision;
    return { result: 'DENY' } as Decision;
  },
};

function registry(): PermissionRegistry {
  const registered = new PermissionRegistry();
  registered.registerPermissions(
    { name: 'deploy.run', action: 'use', description: 'Run a deployment' },
    { name: 'deploy.admin', action: 'use', description: 'Administer deployments' },
    {
      name: 'catalog.entity.read',
      resourceType: 'catalog-entity',
      action: 'read',
      description: 'Read a catalog entity',
    },
  );
  return registered;
}

const NODES: ShellNodeConfig[] = [
  {
    pathSegment: 'tools',
    public: true,
    children: [
      {
        pathSegment: ':name',
        viewUrl: 'https://deploy.example.com/',
        permission: 'deploy.run',
        audience: 'https://deploy.example.com',
        audiencePermissions: ['deploy.run', 'deploy.admin', 'catalog.entity.read'],
      },
    ],
  },
  {
    pathSegment: 'admin',
    viewUrl: 'https://admin.example.com/',
    permission: 'deploy.admin',
    audience: 'https://admin.example.com',
  },
];

describe('micro-frontend tokens', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'shell-token-'));
  const database = {
    client: 'better-sqlite3' as const,
    connection: { filename: path.join(folder, 'portal.db') },
  };
  after(() => rmSync(folder, { recursive: true, force: true }));

  test('index keys nodes by route', () => {
    const index = indexTokenNodes(NODES, registry());
    assert.deepEqual([...index.keys()], ['tools/:name', 'admin']);
    assert.deepEqual(index.get('tools/:name')?.guards, [
      { public: true },
      { permission: 'deploy.run' },
    ]);
  });

  test('index rejects unknown permissions', () => {
    const nodes: ShellNodeConfig[] = [
      {
        pathSegment: 'a',
        public: true,
        viewUrl: '/a/',
        audience: 'x',
        audiencePermissions: ['no.such'],
      },
      { pathSegment: 'b', public: true, viewUrl: '/b/', audiencePermissions: ['deploy.run'] },
    ];
    assert.throws(
      () => indexTokenNodes(nodes, registry()),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(
          error.details.map((detail) => detail.path),
          ['shell.nodes[0].audiencePermissions[0]', 'shell.nodes[1].audiencePermissions'],
        );
        return true;
      },
    );
  });

  test('visibility follows every ancestor', () => {
    const index = indexTokenNodes(NODES, registry());
    assert.equal(maySeeTokenNode(index.get('tools/:name')!, ALICE, permissions), true);
    assert.equal(maySeeTokenNode(index.get('admin')!, ALICE, permissions), false);
  });

  test('token carries audience and claims', async () => {
    const key = await loadJwtSigningKey({ keyFile: undefined, database });
    const node = indexTokenNodes(NODES, registry()).get('tools/:name')!;
    const issued = await issueMicroFrontendToken({
      node,
      principal: ALICE,
      permissions,
      key,
      issuer: ISSUER,
      lifetimeSeconds: 300,
      now: NOW,
    });

    const keySet = createLocalJWKSet({ keys: [key.publicJwk] });
    const { payload, protectedHeader } = await jwtVerify(issued.token, keySet, {
      issuer: ISSUER,
      audience: 'https://deploy.example.com',
      currentDate: NOW,
    });
    assert.equal(protectedHeader.alg, 'EdDSA');
    assert.equal(protectedHeader.kid, key.keyId);
    assert.equal(payload.sub, 'user:default/alice');
    assert.deepEqual(payload.ent, ['group:default/team-a', 'user:default/alice']);
    assert.deepEqual(payload.permissions, ['deploy.run'], 'only unconditional grants');
    assert.equal(payload.exp, Math.floor(NOW.getTime() / 1000) + 300);
    assert.equal(issued.expiresAt, '2025-03-01T12:05:00.000Z');

    await assert.rejects(
      jwtVerify(issued.token, keySet, {
        issuer: ISSUER,
        audience: 'https://admin.example.com',
        currentDate: NOW,
      }),
      errors.JWTClaimValidationFailed,
    );
  });

  test('lifetime is capped at five minutes', async () => {
    const key = await loadJwtSigningKey({ keyFile: undefined, database });
    const node = indexTokenNodes(NODES, registry()).get('admin')!;
    const issued = await issueMicroFrontendToken({
      node,
      principal: ALICE,
      permissions,
      key,
      issuer: ISSUER,
      lifetimeSeconds: 3_600,
      now: NOW,
    });
    assert.equal(issued.expiresAt, '2025-03-01T12:05:00.000Z');
  });

  test('generated key is reused', async () => {
    const first = await loadJwtSigningKey({ keyFile: undefined, database });
    const second = await loadJwtSigningKey({ keyFile: undefined, database });
    assert.equal(first.keyId, second.keyId);
    const file = path.join(folder, 'micro-frontend-jwt-key.pem');
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test('missing key file names the fix', async () => {
    const keyFile = path.join(folder, 'absent.pem');
    await assert.rejects(loadJwtSigningKey({ keyFile, database }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.details[0]?.message ?? '', /openssl genpkey -algorithm ed25519/);
      return true;
    });
  });
});
