/** The three parts of a catalog entity reference `kind:namespace/name`. */
export interface EntityName {
  kind: string;
  namespace: string;
  name: string;
}

/**
 * Parses `kind:namespace/name`, `kind:name`, `namespace/name` or `name`,
 * taking the missing parts from the defaults as Backstage does for fields such
 * as `spec.owner` (default kind Group). Returns undefined when the kind is
 * missing and has no default.
 */
export function parseEntityRef(
  ref: string,
  defaults: { kind?: string; namespace?: string } = {},
): EntityName | undefined {
  const colon = ref.indexOf(':');
  const kind = colon > 0 ? ref.slice(0, colon) : defaults.kind;
  const rest = colon > 0 ? ref.slice(colon + 1) : ref;
  const slash = rest.indexOf('/');
  const namespace = slash > 0 ? rest.slice(0, slash) : (defaults.namespace ?? 'default');
  const name = slash > 0 ? rest.slice(slash + 1) : rest;
  if (!kind || !name) {
    return undefined;
  }
  return { kind, namespace, name };
}

/** Formats a reference as Backstage does: lowercase kind, namespace and name as given. */
export function stringifyEntityRef(entity: EntityName): string {
  return `${entity.kind.toLowerCase()}:${entity.namespace}/${entity.name}`;
}

/** Builds the shell route of an entity page: `<base>/<kind>/<namespace>/<name>`. */
export function entityPagePath(base: string, entity: EntityName): string {
  const parts = [entity.kind.toLowerCase(), entity.namespace, entity.name].map(encodeURIComponent);
  return `${base.replace(/\/+$/, '')}/${parts.join('/')}`;
}
