/** A fault in the shape of criteria: the path below the criteria and what is wrong. */
export interface CriteriaFault {
  path: PropertyKey[];
  message: string;
}

const COMBINATORS = ['allOf', 'anyOf', 'not'] as const;
const CONDITION_KEYS = new Set(['rule', 'resourceType', 'params']);

/**
 * Checks Backstage's criteria shape and names each fault by its path. It
 * decides the branch from the keys present (`allOf`, `anyOf`, `not` or a
 * condition), so a fault inside a condition is reported as such rather than
 * as a mismatch against every branch of the union.
 */
export function checkCriteriaShape(value: unknown, path: PropertyKey[] = []): CriteriaFault[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [
      {
        path,
        message:
          'must be a mapping: a rule with its params, or allOf, anyOf or not around more criteria',
      },
    ];
  }

  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const combinators = COMBINATORS.filter((key) => key in record);
  if (combinators.length > 1 || (combinators.length === 1 && keys.length > 1)) {
    const extra = keys.filter((key) => key !== combinators[0]);
    return [
      {
        path,
        message: `mixes ${[...combinators, ...extra].join(', ')}: a criterion is either one rule, or exactly one of allOf, anyOf and not`,
      },
    ];
  }

  const [combinator] = combinators;
  if (combinator === 'not') {
    return checkCriteriaShape(record.not, [...path, 'not']);
  }
  if (combinator !== undefined) {
    const items = record[combinator];
    if (!Array.isArray(items) || items.length === 0) {
      return [{ path: [...path, combinator], message: 'must list at least one criterion' }];
    }
    return items.flatMap((item, index) => checkCriteriaShape(item, [...path, combinator, index]));
  }

  return checkCondition(record, path);
}

function checkCondition(record: Record<string, unknown>, path: PropertyKey[]): CriteriaFault[] {
  const faults: CriteriaFault[] = [];
  for (const key of Object.keys(record)) {
    if (!CONDITION_KEYS.has(key)) {
      faults.push({
        path: [...path, key],
        message: `unknown key '${key}': a condition has rule, params and resourceType; check the spelling and the indentation`,
      });
    }
  }
  if (typeof record.rule !== 'string' || record.rule.trim() === '') {
    faults.push({
      path: [...path, 'rule'],
      message:
        record.rule === undefined
          ? 'is required: name a rule such as IS_ENTITY_OWNER'
          : `${JSON.stringify(record.rule)} is invalid: write the rule's name, such as IS_ENTITY_OWNER`,
    });
  }
  if (
    record.resourceType !== undefined &&
    (typeof record.resourceType !== 'string' || record.resourceType === '')
  ) {
    faults.push({
      path: [...path, 'resourceType'],
      message: `${JSON.stringify(record.resourceType)} is invalid: write a resource type such as catalog-entity`,
    });
  }
  const params = record.params;
  if (
    params !== undefined &&
    (params === null || typeof params !== 'object' || Array.isArray(params))
  ) {
    faults.push({
      path: [...path, 'params'],
      message: `${params === null ? 'is empty' : `${JSON.stringify(params)} is invalid`}: write the rule's parameters as a mapping, such as { claims: [$ownerRefs] }`,
    });
  }
  return faults;
}
