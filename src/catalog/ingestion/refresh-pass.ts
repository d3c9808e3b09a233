import {
  danglingWarningsFromBodies,
  findGroupCycles,
  groupCycleMessage,
} from './derived-warnings.js';
import { type CatalogIssue, ISSUE_CODES } from './issues.js';
import { type ErrorRowInput, errorRow, type StoreTransaction } from './store.js';

/** A dangling-reference warning of a location's entity, with the reference it misses. */
export type DanglingCandidate = CatalogIssue & { targetRef: string };

/** Changes of one location refresh that the derived warnings depend on. */
export interface DerivedChanges {
  /** References the location stores after the refresh. */
  storedRefs: string[];
  /** References the location deleted; held ones are not among them. */
  removedRefs: string[];
  /** References the location kept as they were, because their file could not be read. */
  heldRefs: string[];
  /** Dangling references of the stored entities, against the catalog at the time of the refresh. */
  dangling: DanglingCandidate[];
  /** References that no location stored before and this one stores now. */
  appeared: string[];
  /** References deleted with the location's entities or with child locations. */
  disappeared: string[];
  groupsChanged: boolean;
}

/**
 * Collects the derived warnings of one refresh pass: the locations that one
 * trigger (start, interval, file change) refreshes one after another, each in
 * its own transaction. The warnings are stored once, at the end of the pass,
 * so a reference to an entity of a location that the pass has not reached yet
 * is never reported as dangling and then cleared again. Until then readers
 * see the warnings of the previous pass.
 */
export class RefreshPass {
  readonly #refreshed = new Set<string>();
  /** Dangling warnings by entity reference, with the location that stored the entity. */
  readonly #dangling = new Map<string, { locationId: string; warnings: DanglingCandidate[] }>();
  /** Entities of refreshed locations whose dangling warnings stay as they are. */
  readonly #held = new Set<string>();
  readonly #appeared = new Set<string>();
  readonly #disappeared = new Set<string>();
  #groupsChanged = false;

  /** Records a location refresh that committed. */
  record(locationId: string, changes: DerivedChanges): void {
    this.#refreshed.add(locationId);
    for (const ref of changes.removedRefs) {
      if (this.#dangling.get(ref)?.locationId === locationId) {
        this.#dangling.delete(ref);
      }
    }
    for (const ref of changes.storedRefs) {
      this.#held.delete(ref);
      this.#dangling.delete(ref);
    }
    for (const ref of changes.heldRefs) {
      this.#held.add(ref);
    }
    for (const warning of changes.dangling) {
      const ref = warning.entityRef as string;
      const entry = this.#dangling.get(ref) ?? { locationId, warnings: [] };
      entry.warnings.push(warning);
      this.#dangling.set(ref, entry);
    }
    for (const ref of changes.appeared) {
      this.#appeared.add(ref);
    }
    for (const ref of changes.disappeared) {
      this.#disappeared.add(ref);
    }
    this.#groupsChanged ||= changes.groupsChanged;
  }

  /** Whether any location refresh of the pass committed. */
  get isEmpty(): boolean {
    return this.#refreshed.size === 0;
  }

  /**
   * Stores the derived warnings that the pass changed, inside `transaction`,
   * and returns the number of dangling-reference warnings of the entities the
   * pass refreshed.
   */
  async finish(transaction: StoreTransaction, now: string): Promise<number> {
    const candidates = [...this.#dangling.entries()];
    const present = await transaction.existingRefs([
      ...new Set(candidates.flatMap(([, entry]) => entry.warnings.map((w) => w.targetRef))),
    ]);
    const rows: ErrorRowInput[] = [];
    for (const [, entry] of candidates) {
      for (const { targetRef, ...warning } of entry.warnings) {
        if (!present.has(targetRef)) {
          rows.push(errorRow(warning, entry.locationId, now));
        }
      }
    }
    await transaction.replaceLocationDanglingWarnings([...this.#refreshed], [...this.#held], rows);

    // An entity of any location may refer to a reference that went away
    // after its own location's refresh. One that appeared only matters to
    // entities of locations the pass did not refresh, whose warnings were
    // not looked at.
    await refreshReferrersDangling(transaction, [...this.#disappeared], [], now);
    await refreshReferrersDangling(transaction, [...this.#appeared], [...this.#refreshed], now);

    if (this.#groupsChanged) {
      await refreshGroupCycles(transaction, now);
    }
    return rows.length;
  }
}

/**
 * Recomputes the dangling-reference warnings of the entities that refer to
 * any of `changedRefs`, except those of the locations in `excludedLocationIds`.
 */
async function refreshReferrersDangling(
  transaction: StoreTransaction,
  changedRefs: readonly string[],
  excludedLocationIds: readonly string[],
  now: string,
): Promise<void> {
  if (changedRefs.length === 0) {
    return;
  }
  const referrers = await transaction.externalReferrers(changedRefs, excludedLocationIds);
  if (referrers.length === 0) {
    return;
  }

  const referrerRefs = referrers.map((referrer) => referrer.entityRef);
  const outgoing = await transaction.outgoingRelations(referrerRefs);
  const present = await transaction.existingRefs([
    ...new Set(outgoing.map(([, target]) => target)),
  ]);
  const missing = new Map<string, Set<string>>();
  for (const [origin, target] of outgoing) {
    if (!present.has(target)) {
      const targets = missing.get(origin) ?? new Set<string>();
      targets.add(target);
      missing.set(origin, targets);
    }
  }

  const rows: ErrorRowInput[] = danglingWarningsFromBodies(referrers, missing).map((warning) =>
    errorRow(warning, warning.locationId, now),
  );
  await transaction.replaceDanglingWarnings(referrerRefs, rows);
}

/** Recomputes every group-cycle warning from the `childOf` relations of the whole catalog. */
async function refreshGroupCycles(transaction: StoreTransaction, now: string): Promise<void> {
  const cycles = findGroupCycles(await transaction.childOfEdges());
  const members = cycles.flat();
  const places = await transaction.entityPlaces(members);

  const rows: ErrorRowInput[] = [];
  for (const cycle of cycles) {
    for (const groupRef of cycle) {
      const place = places.get(groupRef);
      if (!place) {
        continue;
      }
      rows.push(
        errorRow(
          {
            severity: 'warning',
            code: ISSUE_CODES.groupCycle,
            file: place.file,
            docIndex: place.docIndex,
            entityRef: groupRef,
            message: groupCycleMessage(groupRef, cycle),
          },
          place.locationId,
          now,
        ),
      );
    }
  }
  await transaction.replaceGroupCycleWarnings(rows);
}
