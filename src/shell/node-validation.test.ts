import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ShellNodeConfig } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import { PermissionRegistry } from '../permissions/index.js';
import { badgeCounterOrigins, externalViewOrigins, validateShellNodes } from './node-validation.js';

function createRegistry(): PermissionRegistry {
  const registry = new PermissionRegistry();
  registry.registerPermissions(
    {
      name: 'catalog.entity.read',
      resourceType: 'catalog-entity',
      action: 'read',
      description: 'Read catalog entities',
    },
    { name: 'tools.use', action: 'use', description: 'Use the tools' },
  );
  return registry;
}

/** Runs the validation and returns the ConfigError it throws. */
function faultsOf(nodes: ShellNodeConfig[]): ConfigError {
  try {
    validateShellNodes(nodes, createRegistry());
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected validateShellNodes to throw a ConfigError');
}

describe('validateShellNodes', () => {
  test('valid nodes pass unchanged', () => {
    const nodes: ShellNodeConfig[] = [
      {
        pathSegment: 'catalog',
        label: 'Catalog',
        viewUrl: '/micro-frontends/catalog/',
        permission: 'catalog.entity.read',
        children: [
          {
            pathSegment: ':name',
            viewUrl: '/micro-frontends/entity/',
            hideFromNav: true,
            permission: 'catalog.entity.read',
          },
        ],
      },
      { pathSegment: 'help', viewUrl: 'https://help.example.com/portal', public: true },
    ];

    const result = validateShellNodes(nodes, createRegistry());

    assert.deepEqual(result.nodes, nodes);
    assert.deepEqual(result.dropped, []);
  });

  test('node without permission or public is rejected', () => {
    const error = faultsOf([
      { pathSegment: 'catalog', viewUrl: '/micro-frontends/catalog/' },
      {
        pathSegment: 'tools',
        viewUrl: '/micro-frontends/tools/',
        permission: 'tools.use',
        children: [
          { pathSegment: 'secret', viewUrl: '/micro-frontends/secret/', public: false },
          { pathSegment: 'open', viewUrl: '/micro-frontends/open/', public: true },
        ],
      },
    ]);

    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /shell\.nodes is invalid \(2 faults\)/);
    assert.equal(error.details.length, 2);
    assert.equal(error.details[0]?.path, 'shell.nodes[0]');
    assert.match(
      error.details[0]?.message ?? '',
      /node 'catalog' has neither a permission nor public: true/,
    );
    assert.equal(error.details[1]?.path, 'shell.nodes[1].children[0]');
    assert.match(error.details[1]?.message ?? '', /node 'tools\/secret' has neither/);
  });

  test('unregistered permission is rejected with the registered ones', () => {
    const error = faultsOf([
      { pathSegment: 'deploy', viewUrl: '/micro-frontends/deploy/', permission: 'deploy.run' },
    ]);

    assert.equal(error.details.length, 1);
    assert.equal(error.details[0]?.path, 'shell.nodes[0].permission');
    assert.equal(error.details[0]?.value, 'deploy.run');
    assert.match(error.details[0]?.message ?? '', /'deploy\.run', which is not registered/);
    assert.match(error.details[0]?.message ?? '', /catalog\.entity\.read, tools\.use/);
  });

  test('permission together with public is rejected', () => {
    const error = faultsOf([
      {
        pathSegment: 'catalog',
        viewUrl: '/micro-frontends/catalog/',
        permission: 'catalog.entity.read',
        public: true,
      },
    ]);

    assert.equal(error.details.length, 1);
    assert.equal(error.details[0]?.path, 'shell.nodes[0].public');
    assert.match(error.details[0]?.message ?? '', /sets both permission and public: true/);
  });

  test('context key of the global context is rejected', () => {
    const error = faultsOf([
      {
        pathSegment: 'catalog',
        viewUrl: '/micro-frontends/catalog/',
        permission: 'catalog.entity.read',
        context: { catalogPath: '/catalog' },
        children: [
          {
            pathSegment: ':name',
            viewUrl: '/micro-frontends/entity/',
            permission: 'catalog.entity.read',
            context: { permissions: ['catalog.location.read'] },
          },
        ],
      },
    ]);

    assert.equal(error.details.length, 1);
    assert.equal(error.details[0]?.path, 'shell.nodes[0].children[0].context.permissions');
    assert.match(
      error.details[0]?.message ?? '',
      /node 'catalog\/:name' sets context\.permissions, which the shell fills for each user/,
    );
  });

  test('every fault of every node is listed', () => {
    const error = faultsOf([
      { pathSegment: 'a', viewUrl: '/a/' },
      { pathSegment: 'a', viewUrl: '/a2/', public: true },
      { pathSegment: 'b/c', viewUrl: '/b/', public: true },
      { pathSegment: 'd', viewUrl: 'javascript:alert(1)', public: true },
      { pathSegment: 'e', viewUrl: 'relative/page.html', public: true },
      { pathSegment: 'f', viewUrl: '//cdn.example.com/x', permission: 'nope' },
    ]);

    const paths = error.details.map((detail) => detail.path);
    assert.deepEqual(paths, [
      'shell.nodes[0]',
      'shell.nodes[1].pathSegment',
      'shell.nodes[2].pathSegment',
      'shell.nodes[3].viewUrl',
      'shell.nodes[4].viewUrl',
      'shell.nodes[5].permission',
      'shell.nodes[5].viewUrl',
    ]);
    assert.match(error.details[1]?.message ?? '', /repeats the pathSegment of shell\.nodes\[0\]/);
    assert.match(error.details[2]?.message ?? '', /one URL path segment without '\/'/);
  });

  test('C11 node without children or viewUrl is left out', () => {
    // The case's nodes, with the access that default deny requires on every node.
    const nodes: ShellNodeConfig[] = [
      {
        pathSegment: 'home',
        viewUrl: '/micro-frontends/home/',
        public: true,
        children: [{ pathSegment: 'empty', label: 'Empty', viewUrl: '', public: true }],
      },
      {
        pathSegment: 'catalog',
        viewUrl: '/micro-frontends/catalog/',
        permission: 'catalog.entity.read',
      },
    ];

    const result = validateShellNodes(nodes, createRegistry());

    assert.equal(result.dropped.length, 1);
    assert.equal(result.dropped[0]?.nodePath, 'home/empty');
    assert.equal(result.dropped[0]?.field, 'shell.nodes[0].children[0]');
    assert.match(result.dropped[0]?.reason ?? '', /no children and no viewUrl/);
    assert.deepEqual(result.nodes, [
      { pathSegment: 'home', viewUrl: '/micro-frontends/home/', public: true, children: [] },
      {
        pathSegment: 'catalog',
        viewUrl: '/micro-frontends/catalog/',
        permission: 'catalog.entity.read',
      },
    ]);
  });

  test('node without viewUrl whose children are all dropped is left out', () => {
    const result = validateShellNodes(
      [
        {
          pathSegment: 'tools',
          public: true,
          children: [
            { pathSegment: 'a', public: true },
            { pathSegment: 'b', viewUrl: '   ', public: true, children: [] },
          ],
        },
        { pathSegment: 'catalog', viewUrl: '/micro-frontends/catalog/', public: true },
      ],
      createRegistry(),
    );

    assert.deepEqual(
      result.dropped.map((node) => node.nodePath),
      ['tools/a', 'tools/b', 'tools'],
    );
    assert.match(result.dropped[2]?.reason ?? '', /every child was left out/);
    assert.deepEqual(
      result.nodes.map((node) => node.pathSegment),
      ['catalog'],
    );
  });

  test('node with children needs no viewUrl', () => {
    const result = validateShellNodes(
      [
        {
          pathSegment: 'catalog',
          permission: 'catalog.entity.read',
          children: [{ pathSegment: 'list', viewUrl: '/micro-frontends/catalog/', public: true }],
        },
      ],
      createRegistry(),
    );

    assert.deepEqual(result.dropped, []);
    assert.equal(result.nodes[0]?.children?.length, 1);
  });
});

describe('externalViewOrigins', () => {
  test('collects origins of absolute view URLs', () => {
    const origins = externalViewOrigins([
      { pathSegment: 'a', viewUrl: '/micro-frontends/a/' },
      {
        pathSegment: 'b',
        viewUrl: 'https://tools.example.com/app/',
        children: [{ pathSegment: 'c', viewUrl: 'http://127.0.0.1:9000/c' }],
      },
      { pathSegment: 'd', viewUrl: 'https://tools.example.com/other' },
    ]);

    assert.deepEqual(origins, ['http://127.0.0.1:9000', 'https://tools.example.com']);
  });
});

describe('validateShellNodes Luigi keys and parameters', () => {
  const entityTree = (viewUrl: string): ShellNodeConfig[] => [
    {
      pathSegment: 'catalog',
      viewUrl: '/micro-frontends/catalog/',
      permission: 'catalog.entity.read',
      children: [
        {
          pathSegment: ':kind',
          permission: 'catalog.entity.read',
          children: [
            {
              pathSegment: ':namespace',
              permission: 'catalog.entity.read',
              children: [{ pathSegment: ':name', viewUrl, permission: 'catalog.entity.read' }],
            },
          ],
        },
      ],
    },
  ];

  test('viewUrl may use every ancestor parameter', () => {
    const nodes = entityTree('https://tools.example.com/:kind/:namespace/:name?port=:name');

    const result = validateShellNodes(nodes, createRegistry());

    assert.deepEqual(result.nodes, nodes);
  });

  test('viewUrl parameter of no ancestor is rejected', () => {
    const error = faultsOf(entityTree('/micro-frontends/entity/?team=:team'));

    assert.equal(error.details.length, 1);
    assert.equal(
      error.details[0]?.path,
      'shell.nodes[0].children[0].children[0].children[0].viewUrl',
    );
    assert.match(error.details[0]?.message ?? '', /node 'catalog\/:kind\/:namespace\/:name'/);
    assert.match(error.details[0]?.message ?? '', /:team, which no dynamic segment/);
    assert.match(error.details[0]?.message ?? '', /use one of :kind, :namespace, :name/);
  });

  test('port of an absolute viewUrl is no parameter', () => {
    const nodes = entityTree('http://127.0.0.1:8080/entity/:name');

    assert.deepEqual(validateShellNodes(nodes, createRegistry()).nodes, nodes);
  });

  test('two dynamic siblings are rejected', () => {
    const error = faultsOf([
      {
        pathSegment: 'catalog',
        viewUrl: '/micro-frontends/catalog/',
        permission: 'catalog.entity.read',
        children: [
          { pathSegment: ':kind', viewUrl: '/a/', permission: 'catalog.entity.read' },
          { pathSegment: ':name', viewUrl: '/b/', permission: 'catalog.entity.read' },
        ],
      },
    ]);

    assert.equal(error.details.length, 1);
    assert.equal(error.details[0]?.path, 'shell.nodes[0].children[1].pathSegment');
    assert.match(
      error.details[0]?.message ?? '',
      /node 'catalog\/:name' is a second dynamic segment/,
    );
  });

  test('parameter repeated below an ancestor is rejected', () => {
    const error = faultsOf([
      {
        pathSegment: ':id',
        permission: 'tools.use',
        children: [{ pathSegment: ':id', viewUrl: '/x/:id', permission: 'tools.use' }],
      },
    ]);

    assert.equal(error.details.length, 1);
    assert.match(error.details[0]?.message ?? '', /node ':id\/:id' repeats the parameter :id/);
  });

  test('dynamic segment without a name is rejected', () => {
    const error = faultsOf([{ pathSegment: ':', viewUrl: '/x/', permission: 'tools.use' }]);

    assert.equal(error.details.length, 1);
    assert.match(error.details[0]?.message ?? '', /dynamic pathSegment ':'/);
  });

  test('slash inside a pathSegment names the node', () => {
    const error = faultsOf([
      {
        pathSegment: 'tools',
        permission: 'tools.use',
        viewUrl: '/t/',
        children: [{ pathSegment: 'a/b', viewUrl: '/x/', permission: 'tools.use' }],
      },
    ]);

    assert.equal(error.details[0]?.path, 'shell.nodes[0].children[0].pathSegment');
    assert.match(error.details[0]?.message ?? '', /node 'tools\/a\/b' has pathSegment 'a\/b'/);
  });

  test('external link counts as a destination', () => {
    const nodes: ShellNodeConfig[] = [
      { pathSegment: 'docs', externalLink: { url: 'https://docs.example.com' }, public: true },
    ];

    const result = validateShellNodes(nodes, createRegistry());

    assert.deepEqual(result.nodes, nodes);
    assert.deepEqual(result.dropped, []);
  });

  test('conflicting Luigi keys are rejected', () => {
    const error = faultsOf([
      {
        pathSegment: 'docs',
        viewUrl: '/docs/',
        externalLink: { url: 'https://docs.example.com' },
        public: true,
      },
      {
        pathSegment: 'tree',
        virtualTree: true,
        public: true,
        children: [{ pathSegment: 'leaf', viewUrl: '/leaf/', public: true }],
      },
      {
        pathSegment: 'modal',
        openNodeInModal: { size: 's' },
        public: true,
        children: [{ pathSegment: 'inner', viewUrl: '/inner/', public: true }],
      },
    ]);

    const messages = error.details.map((detail) => detail.message);
    assert.equal(messages.length, 4);
    assert.match(messages[0] ?? '', /node 'docs' has both a viewUrl and an externalLink/);
    assert.match(messages[1] ?? '', /node 'tree' sets virtualTree and has children/);
    assert.match(messages[2] ?? '', /node 'tree' sets virtualTree without a viewUrl/);
    assert.match(messages[3] ?? '', /node 'modal' sets openNodeInModal without a viewUrl/);
  });
});

describe('badgeCounter.url', () => {
  const ALLOWED = 'https://tools.example.com';

  /** Builds a node below `inbox` whose badge counts from `url`. */
  function nodesWithBadge(url: string): ShellNodeConfig[] {
    return [
      {
        pathSegment: 'inbox',
        label: 'Inbox',
        public: true,
        children: [
          {
            pathSegment: 'approvals',
            viewUrl: '/micro-frontends/approvals/',
            public: true,
            badgeCounter: { label: 'Waiting for you', url },
          },
        ],
      },
    ];
  }

  const accepted: Array<{ name: string; url: string }> = [
    { name: 'portal path', url: '/api/workflows/inbox/count' },
    { name: 'portal path with query', url: '/api/catalog/entities/by-query?limit=0' },
    { name: 'allowed origin', url: `${ALLOWED}/api/count` },
    { name: 'allowed origin in other case', url: 'https://TOOLS.example.com/count' },
  ];
  for (const { name, url } of accepted) {
    test(`badge URL accepted: ${name}`, () => {
      const result = validateShellNodes(nodesWithBadge(url), createRegistry(), {
        allowedOrigins: [ALLOWED],
      });

      assert.equal(result.nodes[0]?.children?.[0]?.badgeCounter?.url, url);
    });
  }

  const rejected: Array<{ name: string; url: string; message: RegExp }> = [
    {
      name: 'origin not allowed',
      url: 'https://evil.example.com/count',
      message:
        /^node 'inbox\/approvals' has badgeCounter\.url 'https:\/\/evil\.example\.com\/count', whose origin https:\/\/evil\.example\.com is not in shell\.allowedOrigins \(https:\/\/tools\.example\.com\): add the origin/,
    },
    {
      name: 'protocol-relative URL',
      url: '//evil.example.com/count',
      message:
        /^node 'inbox\/approvals' has badgeCounter\.url '\/\/evil\.example\.com\/count': use a path on the portal/,
    },
    {
      name: 'relative path',
      url: 'api/count',
      message: /^node 'inbox\/approvals' has badgeCounter\.url 'api\/count': use a path/,
    },
    {
      name: 'script URL',
      url: 'javascript:alert(1)',
      message: /badgeCounter\.url 'javascript:alert\(1\)': use a path on the portal/,
    },
    {
      name: 'other scheme',
      url: 'ftp://tools.example.com/count',
      message: /badgeCounter\.url 'ftp:\/\/tools\.example\.com\/count': use a path/,
    },
  ];
  for (const { name, url, message } of rejected) {
    test(`badge URL rejected: ${name}`, () => {
      let error: unknown;
      try {
        validateShellNodes(nodesWithBadge(url), createRegistry(), { allowedOrigins: [ALLOWED] });
      } catch (caught) {
        error = caught;
      }

      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.equal(error.details.length, 1);
      assert.equal(error.details[0]?.path, 'shell.nodes[0].children[0].badgeCounter.url');
      assert.equal(error.details[0]?.value, url);
      assert.match(error.details[0]?.message ?? '', message);
    });
  }

  test('badge origin needs an allowlist', () => {
    const error = faultsOf(nodesWithBadge(`${ALLOWED}/count`));

    assert.match(error.details[0]?.message ?? '', /is not in shell\.allowedOrigins \(empty\)/);
  });

  test('badge origins go to connect-src', () => {
    const nodes = [
      ...nodesWithBadge(`${ALLOWED}/a`),
      {
        pathSegment: 'other',
        viewUrl: '/other/',
        public: true,
        badgeCounter: { label: 'Open', url: '/api/other/count' },
      },
    ];

    assert.deepEqual(badgeCounterOrigins(nodes), [ALLOWED]);
  });
});
