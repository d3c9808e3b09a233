import type { GroupMappingRule } from './provider-profiles.js';
import { groupRefFromClaim } from './sign-in-resolution.js';

/** The catalog lookups that group mapping uses. */
export interface GroupLookup {
  /** Returns the lowercase reference when a Group entity with that reference exists. */
  findGroupRef(ref: string): Promise<string | undefined>;
  /** Maps each lowercase value to the Groups whose annotation has that value, ignoring case. */
  findGroupRefsByAnnotation(
    annotation: string,
    values: readonly string[],
  ): Promise<Map<string, string[]>>;
}

export interface GroupMappingResult {
  /** Lowercase Group references, sorted, without duplicates. */
  groupRefs: string[];
  /** Claim values that no rule turned into an existing Group, as sent. */
  unmatched: string[];
}

/** Turns the values of a groups claim into the references of existing Group entities. */
export type GroupMapper = (values: readonly string[]) => Promise<GroupMappingResult>;

/** Characters of an entity name; anything else in captured text becomes `-`. */
const NAME_CHARACTER = /[A-Za-z0-9_.-]/;

/**
 * Creates the mapper for a list of rules. For each claim value the rules are
 * tried in order, and the first that finds at least one Group decides.
 * Patterns are checked when the config is loaded, so they compile here.
 */
export function createGroupMapper(
  rules: readonly GroupMappingRule[],
  lookup: GroupLookup,
): GroupMapper {
  const compiled = rules.map((rule) =>
    rule.match === 'pattern'
      ? { rule, expression: new RegExp(`^(?:${rule.pattern})$`, 'u') }
      : { rule, expression: undefined },
  );

  return async (values) => {
    const found = new Set<string>();
    let remaining = [
      ...new Set(values.map((value) => value.trim()).filter((value) => value !== '')),
    ];

    for (const { rule, expression } of compiled) {
      if (remaining.length === 0) {
        break;
      }
      const matched = new Set<string>();

      if (rule.match === 'annotation') {
        const byValue = await lookup.findGroupRefsByAnnotation(rule.annotation, remaining);
        for (const value of remaining) {
          const refs = byValue.get(value.toLowerCase()) ?? [];
          for (const ref of refs) {
            found.add(ref);
          }
          if (refs.length > 0) {
            matched.add(value);
          }
        }
      } else {
        for (const value of remaining) {
          const candidate =
            rule.match === 'name'
              ? groupRefFromClaim(value, rule.namespace)
              : applyTemplate(value, expression!, rule.template);
          const ref = candidate ? await lookup.findGroupRef(candidate) : undefined;
          if (ref) {
            found.add(ref.toLowerCase());
            matched.add(value);
          }
        }
      }

      remaining = remaining.filter((value) => !matched.has(value));
    }

    return { groupRefs: [...found].sort(), unmatched: remaining };
  };
}

/**
 * Builds the Group reference of a pattern rule for one value, or undefined
 * when the pattern does not match it or the result is no Group reference.
 * Captured text is inserted with every character that an entity name does
 * not allow, such as the `/` of a Keycloak path, replaced by `-`.
 */
export function applyTemplate(
  value: string,
  expression: RegExp,
  template: string,
): string | undefined {
  const match = expression.exec(value);
  if (!match) {
    return undefined;
  }

  const filled = template.replace(/\{([^{}]*)\}/g, (_placeholder, name: string) => {
    const captured = /^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name];
    return [...(captured ?? '')]
      .map((character) => (NAME_CHARACTER.test(character) ? character : '-'))
      .join('');
  });
  return groupRefFromClaim(filled, 'default');
}
