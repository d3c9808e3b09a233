import { type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { DatabaseHandle, DialectName } from './connect.js';

/** The migrations of one capability, kept in tables named after it. */
export interface MigrationSet {
  /** Capability name; the migration tables become `<name>_migration` and `<name>_migration_lock`. */
  name: string;
  /** The migrations by name, in the order their names sort; they may differ per dialect. */
  migrations: (dialect: DialectName) => Record<string, Migration>;
}

/** Applies every pending migration of each set, in order. Throws on the first failure. */
export async function migrateToLatest(
  handle: DatabaseHandle,
  sets: readonly MigrationSet[],
): Promise<void> {
  for (const set of sets) {
    const provider: MigrationProvider = {
      getMigrations: async () => set.migrations(handle.dialect),
    };
    const migrator = new Migrator({
      db: handle.db,
      provider,
      migrationTableName: `${set.name}_migration`,
      migrationLockTableName: `${set.name}_migration_lock`,
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((result) => result.status === 'Error');
      throw new Error(
        `Database migration ${set.name}/${failed?.migrationName ?? '(unknown)'} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

/** Column type of an integer primary key that numbers rows by itself. */
export function autoIncrement(dialect: DialectName): 'integer' | 'serial' {
  // SQLite makes any `integer primary key` column an alias of the row id.
  return dialect === 'sqlite' ? 'integer' : 'serial';
}
