import { type ApiResult, getJson, postJson } from '../common/api.js';
import { byId, h, replaceChildren } from '../common/dom.js';
import { entityPagePath, parseEntityRef, stringifyEntityRef } from '../common/entity-ref.js';
import { onViewContext, shellLink } from '../common/luigi.js';
import { renderProblem } from '../common/problems.js';
import {
  GROUP_FIELDS,
  groupLabel,
  type HomeEntity,
  MAX_OWNER_REFS,
  type Me,
  type NavigationNode,
  navigationShortcuts,
  OWNED_LIMIT,
  ownedEntitiesUrl,
  readConfiguredShortcuts,
  type Shortcut,
} from './model.js';

const main = byId<HTMLElement>('home');

let started = false;

onViewContext((view) => {
  // The view shows the same data for every route, so a context update does not reload it.
  if (started) return;
  started = true;
  const catalogPath =
    typeof view.context.catalogPath === 'string' ? view.context.catalogPath : '/catalog';
  void showHome(view.context, catalogPath);
});

/**
 * Loads the user, then their groups, owned entities and navigation at once,
 * and renders the three sections. `data-state` on the main element turns from
 * `loading` to `ready` once everything has loaded or failed.
 */
async function showHome(context: Record<string, unknown>, catalogPath: string): Promise<void> {
  const me = await getJson<Me>('/api/auth/me');
  if (!me.ok) {
    replaceChildren(
      main,
      h('h1', null, 'Home'),
      renderProblem(me.status, me.message, { action: 'read your profile' }),
    );
    finish();
    return;
  }

  const user = me.data;
  const [groups, owned, navigation] = await Promise.all([
    postJson<{ items: Array<HomeEntity | null> }>('/api/catalog/entities/by-refs', {
      entityRefs: [user.userEntityRef, ...user.groupEntityRefs],
      fields: [...GROUP_FIELDS, 'relations'],
    }),
    getJson<{ items: HomeEntity[]; totalItems: number }>(
      ownedEntitiesUrl(user.ownershipEntityRefs),
    ),
    getJson<{ nodes: NavigationNode[] }>('/api/shell/config'),
  ]);

  replaceChildren(
    main,
    h('h1', null, `Welcome, ${user.displayName ?? user.userEntityRef}`),
    renderShortcuts(context, navigation),
    renderGroups(user, groups, catalogPath),
    renderOwned(user, owned, catalogPath),
  );
  finish();
}

function finish(): void {
  main.removeAttribute('aria-busy');
  main.dataset.state = 'ready';
}

function renderShortcuts(
  context: Record<string, unknown>,
  navigation: ApiResult<{ nodes: NavigationNode[] }>,
): HTMLElement {
  const configured = readConfiguredShortcuts(context);
  const section = h(
    'section',
    { 'aria-labelledby': 'shortcuts-heading', id: 'shortcuts' },
    h('h2', { id: 'shortcuts-heading' }, 'Shortcuts'),
  );

  const shortcuts = navigation.ok ? navigationShortcuts(navigation.data.nodes) : [];
  shortcuts.push(...configured.shortcuts);
  if (shortcuts.length > 0) {
    section.append(h('ul', { class: 'shortcuts' }, ...shortcuts.map(renderShortcut)));
  } else {
    section.append(h('p', { class: 'muted' }, 'No shortcuts.'));
  }

  if (!navigation.ok) {
    section.append(
      h(
        'p',
        { class: 'notice' },
        `Your navigation could not be loaded, so its sections are not listed: ${navigation.message}`,
      ),
    );
  }
  for (const fault of configured.faults) {
    section.append(
      h('p', { class: 'notice', 'data-fault': 'shortcut' }, `Shortcut left out: ${fault}`),
    );
  }
  return section;
}

function renderShortcut(shortcut: Shortcut): HTMLElement {
  const link = shortcut.external
    ? h('a', { href: shortcut.url, target: '_blank', rel: 'noopener noreferrer' }, shortcut.label)
    : shellLink(shortcut.url, shortcut.label);
  return h(
    'li',
    null,
    link,
    shortcut.description ? h('span', { class: 'description' }, shortcut.description) : null,
  );
}

function renderGroups(
  user: Me,
  result: ApiResult<{ items: Array<HomeEntity | null> }>,
  catalogPath: string,
): HTMLElement {
  const section = h(
    'section',
    { 'aria-labelledby': 'groups-heading', id: 'groups' },
    h('h2', { id: 'groups-heading' }, 'Your groups'),
  );
  if (user.groupEntityRefs.length === 0) {
    section.append(h('p', { class: 'muted' }, 'You are in no group of the catalog.'));
    return section;
  }
  if (!result.ok) {
    section.append(renderProblem(result.status, result.message, { action: 'read your groups' }));
    return section;
  }

  // by-refs keeps the request order: the user first, then the groups.
  const [userEntity, ...groups] = result.data.items;
  const direct = new Set(
    (userEntity?.relations ?? [])
      .filter((relation) => relation.type === 'memberOf')
      .map((relation) => relation.targetRef),
  );
  const listed = user.groupEntityRefs.map((ref, index) => ({ ref, group: groups[index] ?? null }));
  // Direct memberships first; each part keeps the server's order.
  const ordered = [
    ...listed.filter((entry) => direct.has(entry.ref)),
    ...listed.filter((entry) => !direct.has(entry.ref)),
  ];
  const items = ordered.map(({ ref, group }) => {
    const name = parseEntityRef(ref);
    const label = group ? groupLabel(group) : ref;
    const link = name ? shellLink(entityPagePath(catalogPath, name), label) : label;
    const membership = direct.has(ref) ? 'member' : 'through a parent group';
    return h(
      'li',
      { 'data-ref': ref },
      link,
      ' ',
      h('span', { class: 'muted' }, `(${membership})`),
      group?.metadata.description
        ? h('span', { class: 'description' }, group.metadata.description)
        : null,
    );
  });
  section.append(h('ul', { class: 'home-list' }, ...items));
  return section;
}

function renderOwned(
  user: Me,
  result: ApiResult<{ items: HomeEntity[]; totalItems: number }>,
  catalogPath: string,
): HTMLElement {
  const section = h(
    'section',
    { 'aria-labelledby': 'owned-heading', id: 'owned' },
    h('h2', { id: 'owned-heading' }, 'What you own'),
  );
  if (!result.ok) {
    section.append(
      renderProblem(result.status, result.message, { action: 'read catalog entities' }),
    );
    return section;
  }
  if (result.data.items.length === 0) {
    section.append(
      h(
        'p',
        { class: 'muted' },
        'Neither you nor your groups own an entity that you may read in the catalog.',
      ),
    );
    return section;
  }

  const rows = result.data.items.map((entity) => {
    const name = {
      kind: entity.kind,
      namespace: entity.metadata.namespace ?? 'default',
      name: entity.metadata.name,
    };
    const type = typeof entity.spec?.type === 'string' ? entity.spec.type : '';
    return h(
      'tr',
      { 'data-ref': stringifyEntityRef(name) },
      h(
        'td',
        null,
        shellLink(entityPagePath(catalogPath, name), entity.metadata.title ?? entity.metadata.name),
        entity.metadata.description
          ? h('span', { class: 'description' }, entity.metadata.description)
          : null,
      ),
      h('td', null, entity.kind),
      h('td', null, type),
    );
  });
  section.append(
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        null,
        h(
          'thead',
          null,
          h('tr', null, h('th', null, 'Name'), h('th', null, 'Kind'), h('th', null, 'Type')),
        ),
        h('tbody', null, ...rows),
      ),
    ),
  );
  if (result.data.totalItems > result.data.items.length) {
    section.append(
      h(
        'p',
        { class: 'muted' },
        `Showing the first ${OWNED_LIMIT} of ${result.data.totalItems} entities, by name.`,
      ),
    );
  }
  if (user.ownershipEntityRefs.length > MAX_OWNER_REFS) {
    section.append(
      h(
        'p',
        { class: 'notice' },
        `You own through ${user.ownershipEntityRefs.length} references; this list covers the first ${MAX_OWNER_REFS}.`,
      ),
    );
  }
  return section;
}
