/** Basic permission to read catalog locations and their ingestion errors. */
export const CATALOG_LOCATION_READ = 'catalog.location.read';

/**
 * Reads whether the user holds a basic permission from the `permissions` list
 * that the shell puts into every view's context. Returns undefined when the
 * context has no such list, as for a page opened outside the shell. The
 * caller then calls the API and handles a 403.
 */
export function holdsPermission(
  context: Record<string, unknown>,
  permission: string,
): boolean | undefined {
  const permissions = context.permissions;
  if (!Array.isArray(permissions)) {
    return undefined;
  }
  return permissions.includes(permission);
}
