import type { CatalogDirectory } from '../catalog/index.js';
import type { GroupMapper } from './group-mapping.js';
import {
  type IdentityClaims,
  readIdentityClaims,
  resolveSignIn,
  type SignInResolution,
} from './sign-in-resolution.js';

/** A resolution with the catalog version that was read before it. */
export interface VersionedResolution extends SignInResolution {
  catalogVersion: string;
}

/**
 * Turns the claims of a validated token into a Principal in one way for
 * every entry point: browser sign-in, session refresh and bearer tokens, so
 * that a user gets the same groups whichever way they come in.
 */
export interface PrincipalResolver {
  /** Reads the claims that resolution needs from a validated token's claim set. */
  readClaims(tokenClaims: Readonly<Record<string, unknown>>): IdentityClaims;
  /**
   * Finds the User entity and maps the groups. Throws an AuthenticationError
   * when no User entity matches.
   */
  resolve(claims: IdentityClaims): Promise<VersionedResolution>;
  /** Reads the catalog version; it changes when a catalog change commits. */
  catalogVersion(): Promise<string>;
}

export function createPrincipalResolver(options: {
  directory: CatalogDirectory;
  transitiveGroupOwnership: boolean;
  groupsClaim: string;
  mapGroups: GroupMapper;
  readCatalogVersion: () => Promise<string>;
}): PrincipalResolver {
  return {
    readClaims: (tokenClaims) => readIdentityClaims(tokenClaims, options.groupsClaim),
    catalogVersion: options.readCatalogVersion,

    async resolve(claims) {
      // Read first: a change that commits during resolution then shows as a
      // newer version, so the result is resolved again instead of kept.
      const catalogVersion = await options.readCatalogVersion();
      const resolution = await resolveSignIn(claims, {
        directory: options.directory,
        transitiveGroupOwnership: options.transitiveGroupOwnership,
        mapGroups: options.mapGroups,
      });
      return { ...resolution, catalogVersion };
    },
  };
}
