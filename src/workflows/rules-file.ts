import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { locateInYamlFiles, readYamlWithSchema } from '../config/index.js';
import { ConfigError, type ErrorDetail } from '../errors/index.js';
import { durationSchema } from './duration.js';
import { normalizeEntityRef, normalizeGroupRef } from './entity-ref.js';

const nonEmpty = z.string().trim().min(1, 'must not be empty');

const RULE_ID = /^[a-z0-9]+([._-][a-z0-9]+)*$/;

const groupRef = nonEmpty.transform((value, context) => {
  const normalized = normalizeGroupRef(value);
  if (!normalized) {
    context.addIssue({
      code: 'custom',
      message: `'${value}' is not a group reference: use group:<name> or group:<namespace>/<name>`,
    });
    return z.NEVER;
  }
  return normalized;
});

const systemRef = nonEmpty.transform((value, context) => {
  const normalized = normalizeEntityRef(value, { defaultKind: 'system' });
  if (!normalized?.startsWith('system:')) {
    context.addIssue({
      code: 'custom',
      message: `'${value}' is not a system reference: use a name such as parcel-booking or system:default/parcel-booking`,
    });
    return z.NEVER;
  }
  return normalized;
});

const lowercaseList = z.array(nonEmpty.transform((value) => value.toLowerCase()));

/** The conditions for a rule to apply. Every field that is set must match. */
export const ruleMatchSchema = z
  .object({
    /** Request types, such as deployment. */
    types: lowercaseList.optional(),
    /** Environments, such as production. A request without an environment never matches a list. */
    environments: lowercaseList.optional(),
    /** spec.lifecycle of the request's entity, such as experimental or production. */
    lifecycles: lowercaseList.optional(),
    /** Kinds of the request's entity, such as Component or Resource. */
    kinds: lowercaseList.optional(),
    /** Systems that the request's entity is part of (spec.system). */
    systems: z.array(systemRef).optional(),
    /** Labels the request's entity must carry, each with exactly this value. */
    labels: z.record(nonEmpty, z.string()).optional(),
    /** True: only when the requester owns the entity, directly or through their groups. */
    requesterOwnsEntity: z.boolean().optional(),
  })
  .strict();

/** An approver source: the owners of the request's entity, or the members of a group. */
export const approverSourceSchema = z.union([
  z.literal('owners'),
  z.object({ group: groupRef }).strict(),
]);

/** Approvals that must come from one source at least; counted within `count`. */
const minimumSchema = z.number().int().min(1).max(10).optional();

/** An approver source as written: `owners`, `{ group }`, or either with a minimum `min`. */
const approverSourceInputSchema = z.union([
  z.literal('owners'),
  z.object({ owners: z.literal(true), min: minimumSchema }).strict(),
  z.object({ group: groupRef, min: minimumSchema }).strict(),
]);

const approvalsSchema = z
  .object({
    /**
     * Approvals needed; one denial denies. Defaults to the sum of the
     * sources' `min`, and to 1 when no source sets one.
     */
    count: z.number().int().min(1).max(10).optional(),
    /**
     * Who may approve. `owners` is everyone whose ownership references include
     * the entity's owner: its members and, with transitive group ownership,
     * the members of groups below it. A source with `min` must supply at
     * least that many of the approvals, and one approver counts for one
     * source only.
     */
    from: z
      .array(approverSourceInputSchema)
      .min(1, 'name at least one approver: owners or { group }'),
  })
  .strict()
  .transform((approvals, context) => {
    const from: ApproverSource[] = [];
    const minimums: ApproverMinimum[] = [];
    for (const written of approvals.from) {
      const source: ApproverSource =
        written === 'owners' || 'owners' in written ? 'owners' : { group: written.group };
      from.push(source);
      if (typeof written === 'object' && written.min !== undefined) {
        minimums.push({ source, count: written.min });
      }
    }

    const sum = minimums.reduce((total, minimum) => total + minimum.count, 0);
    const count = approvals.count ?? Math.max(1, sum);
    if (count < sum) {
      context.addIssue({
        code: 'custom',
        path: ['count'],
        message: `count ${count} is less than the ${sum} approvals that the sources' min values need: raise count to at least ${sum} or lower a min`,
      });
    }
    return { count, from, minimums };
  });

export const approvalRuleSchema = z
  .object({
    /** Stable name of the rule, shown with each request it matched. */
    id: nonEmpty.regex(RULE_ID, 'must be lowercase letters and digits joined by single -, _ or .'),
    description: z.string().optional(),
    /** Leave out to match every request. */
    match: ruleMatchSchema.default({}),
    /** Approve matching requests at once. */
    autoApprove: z.boolean().default(false),
    approvals: approvalsSchema.optional(),
    /** Maximum duration a request may ask for, such as 1h. Longer requests are rejected. */
    maxDuration: durationSchema.optional(),
    /** Whether the requester must give a reason. */
    reasonRequired: z.boolean().default(false),
    /** How long a request waits for approval before it expires, such as 24h. */
    pendingLifetime: durationSchema.optional(),
    /**
     * Let the requester approve their own request, with a mandatory comment;
     * such a request is flagged and appears in the review queue.
     */
    breakGlass: z.boolean().default(false),
  })
  .strict()
  .superRefine((rule, context) => {
    if (rule.autoApprove === (rule.approvals !== undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['approvals'],
        message: 'set either autoApprove: true or approvals, not both and not neither',
      });
    }
    if (rule.breakGlass && rule.autoApprove) {
      context.addIssue({
        code: 'custom',
        path: ['breakGlass'],
        message: 'breakGlass needs approvals: an auto-approved request has nothing to break',
      });
    }
    if (rule.pendingLifetime !== undefined && rule.autoApprove) {
      context.addIssue({
        code: 'custom',
        path: ['pendingLifetime'],
        message: 'pendingLifetime needs approvals: an auto-approved request is never pending',
      });
    }
  });

export const approvalRulesFileSchema = z
  .object({
    /** Rules in order: the first that matches a request decides it. */
    rules: z.array(approvalRuleSchema),
  })
  .strict();

export type RuleMatch = z.infer<typeof ruleMatchSchema>;
export type ApproverSource = z.infer<typeof approverSourceSchema>;
/** At least `count` approvals must come from `source`. */
export interface ApproverMinimum {
  source: ApproverSource;
  count: number;
}
/** One parsed rule; durations are in seconds. */
export type ApprovalRule = z.infer<typeof approvalRuleSchema>;
export type ApprovalRulesFile = z.infer<typeof approvalRulesFileSchema>;

/**
 * Parses the text of an approval rules file. Throws ConfigError listing
 * every fault with its line: the schema, duplicate ids and request types
 * that `knownTypes` does not contain.
 */
export function parseApprovalRules(
  file: string,
  text: string,
  knownTypes: readonly string[],
): ApprovalRulesFile {
  const { data, yaml } = readYamlWithSchema(
    file,
    text,
    approvalRulesFileSchema,
    'Approval rules file',
  );
  const locate = (path: readonly PropertyKey[]) => locateInYamlFiles([yaml], path);
  const faults: ErrorDetail[] = [];

  const seen = new Set<string>();
  data.rules.forEach((rule, index) => {
    if (seen.has(rule.id)) {
      faults.push({
        path: locate(['rules', index, 'id']),
        message: `rule id '${rule.id}' is used twice: give each rule its own id`,
      });
    }
    seen.add(rule.id);

    rule.match.types?.forEach((type, typeIndex) => {
      if (!knownTypes.includes(type)) {
        faults.push({
          path: locate(['rules', index, 'match', 'types', typeIndex]),
          value: type,
          message: `unknown request type '${type}': use one of ${knownTypes.join(', ')}`,
        });
      }
    });
  });

  if (faults.length > 0) {
    throw new ConfigError(`Approval rules file ${file} is invalid`, faults);
  }
  return data;
}

/** Reads and parses an approval rules file; a missing file is a ConfigError naming it. */
export function loadApprovalRules(file: string, knownTypes: readonly string[]): ApprovalRulesFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`Approval rules file ${file} cannot be read`, [
      {
        path: file,
        message: `${(error as NodeJS.ErrnoException).code ?? (error as Error).message}: check workflows.rulesFile`,
      },
    ]);
  }
  return parseApprovalRules(file, text, knownTypes);
}
