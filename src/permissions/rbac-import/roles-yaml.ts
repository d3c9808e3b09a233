import path from 'node:path';
import { Document, isMap } from 'yaml';
import type { RbacImportResult } from './convert.js';
import { formatImportIssue } from './import-issue.js';

/**
 * Writes an import's roles file as YAML. A header names the RBAC files and
 * lists what was left out; a comment above each grant names the file and
 * line it came from. `display` shortens the file names of the header.
 */
export function formatImportedRoles(
  result: RbacImportResult,
  sources: readonly string[],
  display: (file: string) => string = (file) => file,
): string {
  const document = new Document(result.rolesFile);

  const header = [
    ` Converted by \`backstage-luigi policy import-rbac\` from ${sources.map(display).join(' and ')}.`,
    ' The comment above each grant names the RBAC line or document it came from.',
  ];
  const errors = result.issues.filter((issue) => issue.severity === 'error');
  if (errors.length > 0) {
    header.push(
      '',
      ' NOT CONVERTED: the RBAC lines and documents below are left out, so fix them and import again.',
      ...errors.map((issue) => `   ${formatImportIssue(issue, display(issue.file))}`),
    );
  }
  document.commentBefore = header.join('\n');

  result.roles.forEach((role, roleIndex) => {
    role.grantOrigins.forEach((origin, grantIndex) => {
      const node = document.getIn(['roles', roleIndex, 'grants', grantIndex], true);
      if (isMap(node)) {
        const where = `${path.basename(origin.file)}:${origin.line}`;
        node.commentBefore =
          origin.document === undefined ? ` ${where}` : ` ${where} (document ${origin.document})`;
      }
    });
  });

  return document.toString({ lineWidth: 0 });
}
