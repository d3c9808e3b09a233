import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ShellNodeConfig } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import { PermissionRegistry } from '../permissions/index.js';
import { badgeCounterOrigins, validateShellNodes } from './node-validation.js';

/**
 * Hostile `badgeCounter.url`s. The shell fetches the count with the user's
 * session, so only a plain path on the portal or an http(s) URL on an
 * allowed origin may pass, in the form a browser would really request.
 */

const ALLOWED = 'https://tools.example.com';

function nodesWithBadge(url: string): ShellNodeConfig[] {
  return [
    {
      pathSegment: 'approvals',
      viewUrl: '/micro-frontends/approvals/',
      public: true,
      badgeCounter: { label: 'Waiting for you', url },
    },
  ];
}

/** Returns the messages of the faults of one badge URL; empty when it passes. */
function faultsOf(url: string): string[] {
  try {
    validateShellNodes(nodesWithBadge(url), new PermissionRegistry(), {
      allowedOrigins: [ALLOWED],
    });
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    for (const detail of error.details) {
      assert.equal(detail.path, 'shell.nodes[0].badgeCounter.url');
      assert.equal(detail.value, url);
    }
    return error.details.map((detail) => detail.message);
  }
}

describe('badge counter URLs under attack', () => {
  const rejected: Array<[string, RegExp]> = [
    ['javascript:alert(1)', /use a path on the portal/],
    ['JavaScript:fetch(1)', /use a path on the portal/],
    ['data:application/json,{"count":1}', /use a path on the portal/],
    ['blob:https://tools.example.com/1', /use a path on the portal/],
    ['https://evil.example.com/count', /is not in shell\.allowedOrigins/],
    ['https://tools.example.com.evil.example.com/count', /is not in shell\.allowedOrigins/],
    ['https://tools.example.com@evil.example.com/count', /user name or password/],
    ['http://tools.example.com/count', /is not in shell\.allowedOrigins/],
    ['https:tools.example.com/count', /use a path on the portal/],
    ['//evil.example.com/count', /use a path on the portal/],
    ['/\\evil.example.com/count', /use a path on the portal/],
    // Browsers drop tabs and line breaks inside a URL, so these become //evil.example.com.
    ['/\t/evil.example.com/count', /control character or space/],
    ['/\n/evil.example.com/count', /control character or space/],
    ['/api/count\u0000', /control character or space/],
    ['https://user:secret@tools.example.com/count', /user name or password/],
    ['https://token@tools.example.com/count', /user name or password/],
    ['/api/../admin/count', /'\.' or '\.\.' segment/],
    ['/api/%2e%2e/admin/count', /'\.' or '\.\.' segment/],
    ['/api/./count', /'\.' or '\.\.' segment/],
    ['https://tools.example.com/a/../count', /'\.' or '\.\.' segment/],
    ['api/count', /use a path on the portal/],
    ['../count', /'\.' or '\.\.' segment/],
  ];
  for (const [url, message] of rejected) {
    test(`rejects ${JSON.stringify(url)}`, () => {
      const faults = faultsOf(url);
      assert.equal(faults.length, 1, JSON.stringify(faults));
      assert.match(faults[0] ?? '', message);
      assert.match(faults[0] ?? '', /node 'approvals' has badgeCounter\.url/);
    });
  }

  for (const url of [
    '/api/workflows/inbox/count',
    '/api/catalog/entities/by-query?filter=kind=component&limit=0',
    '/api/count?path=../x',
    '/api/count#..',
    `${ALLOWED}/count?x=1`,
  ]) {
    test(`accepts ${JSON.stringify(url)}`, () => {
      assert.deepEqual(faultsOf(url), []);
    });
  }

  test('only allowed origins reach connect-src', () => {
    const nodes = [
      ...nodesWithBadge(`${ALLOWED}/count`),
      {
        pathSegment: 'other',
        viewUrl: '/other/',
        public: true,
        badgeCounter: { label: 'Other', url: '/api/other' },
      },
    ];
    assert.deepEqual(badgeCounterOrigins(nodes), [ALLOWED]);
  });
});

describe('view URLs that a browser reads as another origin', () => {
  for (const viewUrl of ['/\\evil.example.com/', '/\t/evil.example.com/', '/mf/\u0000']) {
    test(`rejects ${JSON.stringify(viewUrl)}`, () => {
      let error: unknown;
      try {
        validateShellNodes(
          [{ pathSegment: 'tool', viewUrl, public: true }],
          new PermissionRegistry(),
        );
      } catch (caught) {
        error = caught;
      }
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.equal(error.details[0]?.path, 'shell.nodes[0].viewUrl');
      assert.match(error.details[0]?.message ?? '', /without control characters or a backslash/);
    });
  }
});
