import { type EntityName, entityPagePath } from '../common/entity-ref.js';
import { shellLink } from '../common/luigi.js';
import { holdsPermission } from '../common/permissions.js';
import type { Entity } from './model.js';

/** An entity tab that a registered micro frontend contributes, as the shell lists it in `context.entityTabs`. */
export interface EntityTab {
  pathSegment: string;
  label: string;
  /** Entity kinds it applies to; every kind when left out. */
  kinds?: string[];
  /** Values of `spec.type` it applies to; every type when left out. */
  types?: string[];
  /**
   * The permission a user must hold to see the tab. The shell sends only the
   * tabs the user is granted and leaves this out, so it is checked only when given.
   */
  permission?: string;
}

/** Reads the well-formed entries of `context.entityTabs`; anything else is skipped. */
export function readEntityTabs(context: Record<string, unknown>): EntityTab[] {
  const listed = context.entityTabs;
  if (!Array.isArray(listed)) {
    return [];
  }
  return listed.filter(
    (tab): tab is EntityTab =>
      typeof tab === 'object' &&
      tab !== null &&
      typeof (tab as EntityTab).pathSegment === 'string' &&
      typeof (tab as EntityTab).label === 'string',
  );
}

/**
 * Keeps the tabs that apply to the entity's kind and `spec.type`, compared
 * without case as Backstage compares kinds, and whose permission, when
 * listed, the user holds. Without a permission list in the context (outside
 * the shell) that check is left to the shell, which shows not found.
 */
export function tabsForEntity(
  tabs: readonly EntityTab[],
  entity: Entity,
  context: Record<string, unknown>,
): EntityTab[] {
  const kind = entity.kind.toLowerCase();
  const type = typeof entity.spec?.type === 'string' ? entity.spec.type.toLowerCase() : undefined;
  return tabs.filter((tab) => {
    if (tab.kinds && !tab.kinds.some((candidate) => candidate.toLowerCase() === kind)) {
      return false;
    }
    if (tab.types && !tab.types.some((candidate) => candidate.toLowerCase() === type)) {
      return false;
    }
    return tab.permission === undefined || holdsPermission(context, tab.permission) !== false;
  });
}

/** Creates a shell link per contributed tab, to `<entity page>/<pathSegment>`, for the entity's tab bar. */
export function renderEntityTabLinks(
  tabs: readonly EntityTab[],
  target: EntityName,
  catalogPath: string,
): HTMLAnchorElement[] {
  const page = entityPagePath(catalogPath, target);
  return tabs.map((tab) => shellLink(`${page}/${encodeURIComponent(tab.pathSegment)}`, tab.label));
}
