import { z } from 'zod';
import { rolesFileSchema } from './roles-file.js';

/** Path of the published JSON Schema of roles files, relative to the repository root. */
export const ROLES_SCHEMA_DOC = 'docs/roles.schema.json';

/**
 * Returns the JSON Schema of a roles file, generated from the schema that
 * the portal validates with, so editors and the portal never disagree. It
 * covers the shape only: whether a permission or rule is registered is
 * checked at load and by `policy lint`.
 */
export function rolesFileJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(rolesFileSchema, { io: 'input' }) as Record<string, unknown>;
  return {
    ...generated,
    title: 'Backstage Luigi roles file',
    description:
      'Roles with members and grants of permissions. Default deny; a deny grant wins over every allow grant.',
  };
}
