import { deriveRelations, type RelationSource } from '../relations.js';
import { type CatalogIssue, formatField, ISSUE_CODES } from './issues.js';

/** Message of a dangling-reference warning; the target is named so that readers can search for it. */
export function danglingMessage(field: string, targetRef: string): string {
  return `${field} refers to ${targetRef}, which is not in the catalog: add that entity, or correct the reference if it is misspelled`;
}

/** An entity stored by some location, with what a warning about it needs. */
export interface StoredEntityInfo {
  entityRef: string;
  locationId: string;
  file: string;
  docIndex: number;
  body: string;
}

/**
 * Builds the dangling-reference warnings of stored entities from their bodies,
 * for entities whose targets changed in another location's refresh. The field
 * of each missing target is found by deriving the entity's relations again.
 */
export function danglingWarningsFromBodies(
  referrers: readonly StoredEntityInfo[],
  missing: ReadonlyMap<string, ReadonlySet<string>>,
): Array<CatalogIssue & { locationId: string }> {
  const warnings: Array<CatalogIssue & { locationId: string }> = [];
  for (const referrer of referrers) {
    const targets = missing.get(referrer.entityRef);
    if (!targets || targets.size === 0) {
      continue;
    }

    const entity = JSON.parse(referrer.body) as RelationSource;
    const seen = new Set<string>();
    for (const relation of deriveRelations(entity).relations) {
      if (relation.sourceRef !== referrer.entityRef || !targets.has(relation.targetRef)) {
        continue;
      }
      const field = formatField(relation.path);
      if (seen.has(field)) {
        continue;
      }
      seen.add(field);
      warnings.push({
        locationId: referrer.locationId,
        severity: 'warning',
        code: ISSUE_CODES.danglingReference,
        file: referrer.file,
        docIndex: referrer.docIndex,
        entityRef: referrer.entityRef,
        field,
        message: danglingMessage(field, relation.targetRef),
      });
    }
  }
  return warnings;
}

/**
 * Finds the groups that are their own ancestor through `childOf` edges
 * (child → parent), with Tarjan's strongly connected components. Each cycle
 * is returned once, as the groups in it sorted by reference; a group that is
 * its own parent is a cycle of one.
 */
export function findGroupCycles(edges: ReadonlyArray<readonly [string, string]>): string[][] {
  const parents = new Map<string, string[]>();
  for (const [child, parent] of edges) {
    const list = parents.get(child) ?? [];
    list.push(parent);
    parents.set(child, list);
  }

  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;

  // Iterative, so a deep hierarchy cannot overflow the call stack.
  for (const start of parents.keys()) {
    if (index.has(start)) {
      continue;
    }
    const work: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    index.set(start, counter);
    lowLink.set(start, counter);
    counter += 1;
    stack.push(start);
    onStack.add(start);

    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; next: number };
      const targets = parents.get(frame.node) ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next] as string;
        frame.next += 1;
        if (!index.has(target)) {
          index.set(target, counter);
          lowLink.set(target, counter);
          counter += 1;
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          lowLink.set(frame.node, Math.min(lowLink.get(frame.node)!, index.get(target)!));
        }
        continue;
      }

      work.pop();
      const parentFrame = work[work.length - 1];
      if (parentFrame) {
        lowLink.set(
          parentFrame.node,
          Math.min(lowLink.get(parentFrame.node)!, lowLink.get(frame.node)!),
        );
      }
      if (lowLink.get(frame.node) !== index.get(frame.node)) {
        continue;
      }

      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      const selfParent = targets.includes(frame.node);
      if (component.length > 1 || selfParent) {
        cycles.push(component.sort());
      }
    }
  }
  return cycles;
}

/** Message of a group-cycle warning. */
export function groupCycleMessage(groupRef: string, cycle: readonly string[]): string {
  const where =
    cycle.length === 1
      ? 'it is its own parent'
      : `it is in a cycle of ${cycle.length} groups: ${cycle.join(', ')}`;
  return `${groupRef} is its own ancestor through childOf relations (${where}): walks up the hierarchy stop at the cycle, so remove one of the parent or children links`;
}
