import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';

/**
 * Normalises an entity reference as the engine stores it: lowercase, with
 * kind and namespace. A bare name such as `booking-api` means a Component in
 * the default namespace, as Backstage reads it. Returns undefined for a
 * value that is not an entity reference.
 */
export function normalizeEntityRef(
  value: string,
  defaults: { defaultKind?: string; defaultNamespace?: string } = {},
): string | undefined {
  try {
    const ref = parseEntityRef(value.trim(), {
      defaultKind: defaults.defaultKind ?? 'component',
      defaultNamespace: defaults.defaultNamespace ?? 'default',
    });
    return stringifyEntityRef(ref).toLocaleLowerCase('en-US');
  } catch {
    return undefined;
  }
}

/** Normalises a group reference: `sre-team` and `group:sre-team` become `group:default/sre-team`. */
export function normalizeGroupRef(value: string): string | undefined {
  const ref = normalizeEntityRef(value, { defaultKind: 'group' });
  return ref?.startsWith('group:') ? ref : undefined;
}
