import { parseEntityRef } from '@backstage/catalog-model';

/** An entity reference from an RBAC policy, lowercased: the RBAC plugin compares them without case. */
export interface RbacRef {
  kind: string;
  namespace: string;
  name: string;
  /** `kind:namespace/name`, lowercase. */
  ref: string;
}

/** The roles file's rule for role names. */
const ROLE_NAME = /^[a-z0-9]+([-_.][a-z0-9]+)*$/;

/**
 * Parses a reference such as `role:default/team_a` or `user:TOM` (namespace
 * `default`) and checks its kind. Returns the reason when it is not one.
 */
export function parseRbacRef(
  value: string,
  kinds: readonly string[],
  field: string,
): RbacRef | { error: string } {
  let parsed: { kind: string; namespace: string; name: string };
  try {
    parsed = parseEntityRef(value);
  } catch {
    return {
      error: `${field} '${value}' is not an entity reference: write ${kinds.map((kind) => `${kind}:<namespace>/<name>`).join(' or ')}`,
    };
  }

  const kind = parsed.kind.toLowerCase();
  if (!kinds.includes(kind)) {
    return {
      error: `${field} '${value}' has kind '${parsed.kind}': use ${kinds.map((item) => `${item}:…`).join(' or ')}`,
    };
  }
  const namespace = parsed.namespace.toLowerCase();
  const name = parsed.name.toLowerCase();
  return { kind, namespace, name, ref: `${kind}:${namespace}/${name}` };
}

/**
 * Names the role that receives the permissions of an RBAC subject. A role of
 * the default namespace keeps its name (`role:default/team_a` is `team_a`),
 * another namespace is put in front (`role:xyz/team_a` is `xyz.team_a`), and
 * a user or group with permissions of its own gets a role named after it
 * (`user:default/ada` is `user.default.ada`).
 */
export function roleNameFor(subject: RbacRef): string | { error: string } {
  let name: string;
  if (subject.kind === 'role') {
    name = subject.namespace === 'default' ? subject.name : `${subject.namespace}.${subject.name}`;
  } else {
    name = `${subject.kind}.${subject.namespace}.${subject.name}`;
  }

  if (!ROLE_NAME.test(name)) {
    return {
      error: `'${subject.ref}' cannot become a role name here, because '${name}' is not lowercase letters and digits joined by single -, _ or .: rename it in the RBAC policy`,
    };
  }
  return name;
}
