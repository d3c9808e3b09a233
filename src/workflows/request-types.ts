import { z } from 'zod';
import { normalizeEntityRef } from './entity-ref.js';
import type { RequestTypeDefinition } from './types.js';

/** Lowercase words joined by dashes, such as `production` or `eu-west-staging`. */
const ENVIRONMENT = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** C0 controls and DEL, which no entity reference, version, git ref or role contains. PostgreSQL cannot store NUL either. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it rejects.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

const entityRef = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(512)
  .transform((value, context) => {
    const normalized = CONTROL_CHARACTER.test(value) ? undefined : normalizeEntityRef(value);
    if (!normalized) {
      context.addIssue({
        code: 'custom',
        message: `'${value}' is not an entity reference: use kind:namespace/name, such as component:default/booking-api`,
      });
      return z.NEVER;
    }
    return normalized;
  });

const environment = z
  .string()
  .trim()
  .max(63)
  .regex(
    ENVIRONMENT,
    'must be lowercase letters and digits joined by single dashes, such as production',
  );

/** Builds the schema of a trimmed one-line value without control characters. */
function singleLine(maxLength: number) {
  return z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(maxLength, `must be at most ${maxLength} characters`)
    .refine((value) => !CONTROL_CHARACTER.test(value), {
      message: 'must not contain control characters such as NUL or line breaks',
    });
}

const role = singleLine(256);

export const deploymentParametersSchema = z
  .object({
    /** The entity to deploy, such as component:default/booking-api. */
    entity: entityRef,
    environment,
    /** A released version, such as 1.4.2. */
    version: singleLine(128).optional(),
    /** A branch, tag or commit to deploy instead of a version. */
    gitRef: singleLine(256).optional(),
  })
  .strict()
  .superRefine((value, context) => {
    if ((value.version === undefined) === (value.gitRef === undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['version'],
        message: 'give exactly one of version and gitRef',
      });
    }
  });

export type DeploymentParameters = z.infer<typeof deploymentParametersSchema>;

export const awsCredentialsParametersSchema = z
  .object({
    /** The entity whose AWS account the credentials are for. */
    entity: entityRef.optional(),
    /** A 12-digit AWS account id, for credentials that belong to no entity. */
    account: z
      .string()
      .trim()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    /** The role to assume: a role name or an IAM role ARN. */
    role,
    /** The environment the account serves, when approval rules tell environments apart. */
    environment: environment.optional(),
    /** Lifetime of the credentials; STS accepts 900 to 43200 seconds. */
    durationSeconds: z.number().int().min(900).max(43_200),
  })
  .strict()
  .superRefine((value, context) => {
    if ((value.entity === undefined) === (value.account === undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['entity'],
        message: 'give exactly one of entity and account',
      });
    }
  });

export type AwsCredentialsParameters = z.infer<typeof awsCredentialsParametersSchema>;

export const roleElevationParametersSchema = z
  .object({
    /** The role of the roles file to hold for the duration. */
    role,
    /** How long the elevation lasts: 1 minute to 24 hours. */
    durationSeconds: z.number().int().min(60).max(86_400),
  })
  .strict();

export type RoleElevationParameters = z.infer<typeof roleElevationParametersSchema>;

export const deploymentRequestType: RequestTypeDefinition<DeploymentParameters> = {
  name: 'deployment',
  description: 'Deploy a version or git ref of an entity to an environment',
  parameters: deploymentParametersSchema,
  createPermission: 'deployment.request.create',
  approvePermission: 'deployment.request.approve',
  entity: 'required',
  entityRef: (parameters) => parameters.entity,
  environment: (parameters) => parameters.environment,
  durationSeconds: () => undefined,
};

export const awsCredentialsRequestType: RequestTypeDefinition<AwsCredentialsParameters> = {
  name: 'aws-credentials',
  description: 'Temporary AWS credentials for a role, shown once to the requester',
  parameters: awsCredentialsParametersSchema,
  createPermission: 'aws-credentials.request.create',
  approvePermission: 'aws-credentials.request.approve',
  entity: 'optional',
  reasonRequired: true,
  entityRef: (parameters) => parameters.entity,
  environment: (parameters) => parameters.environment,
  durationSeconds: (parameters) => parameters.durationSeconds,
};

export const roleElevationRequestType: RequestTypeDefinition<RoleElevationParameters> = {
  name: 'role-elevation',
  description: 'Hold a role of the roles file for a limited time',
  parameters: roleElevationParametersSchema,
  createPermission: 'role-elevation.request.create',
  approvePermission: 'role-elevation.request.approve',
  reasonRequired: true,
  entityRef: () => undefined,
  environment: () => undefined,
  durationSeconds: (parameters) => parameters.durationSeconds,
};

/** The request types that the engine registers itself. */
export const builtInRequestTypes = [
  deploymentRequestType,
  awsCredentialsRequestType,
  roleElevationRequestType,
] as const;
