import { z } from 'zod';
import { approvalRulesFileSchema } from './rules-file.js';

/** Path of the published JSON Schema of approval rules files, relative to the repository root. */
export const APPROVAL_RULES_SCHEMA_DOC = 'docs/approval-rules.schema.json';

/**
 * Returns the JSON Schema of an approval rules file, generated from the
 * schema the portal validates with. It covers the shape only: request types
 * and groups are checked at load and by `policy lint`.
 */
export function approvalRulesJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(approvalRulesFileSchema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return {
    ...generated,
    title: 'Backstage Luigi approval rules file',
    description:
      'Rules in order; the first whose match fits a request decides whether it is approved automatically or who must approve it. A request that no rule matches is rejected.',
  };
}
