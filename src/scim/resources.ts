import { z } from 'zod';
import { ScimError } from './errors.js';
import { SCIM_SCHEMAS } from './schemas.js';

/** A contact value of `emails` or `phoneNumbers`. */
export interface ScimContact {
  value?: string;
  display?: string;
  type?: string;
  primary?: boolean;
}

export interface ScimName {
  formatted?: string;
  familyName?: string;
  givenName?: string;
  middleName?: string;
  honorificPrefix?: string;
  honorificSuffix?: string;
}

/** The attributes of the enterprise user extension (RFC 7643, section 4.3). */
export interface ScimEnterpriseUser {
  employeeNumber?: string;
  costCenter?: string;
  organization?: string;
  division?: string;
  department?: string;
  manager?: { value?: string; displayName?: string };
}

/** User attributes that have no column of their own, stored as JSON. */
export interface ScimUserAttributes {
  name?: ScimName;
  nickName?: string;
  title?: string;
  userType?: string;
  preferredLanguage?: string;
  locale?: string;
  timezone?: string;
  emails?: ScimContact[];
  phoneNumbers?: ScimContact[];
  enterprise?: ScimEnterpriseUser;
}

/** A User as a client sends it in POST or PUT, or as a PATCH leaves it. */
export interface ScimUserInput {
  userName: string;
  externalId: string | undefined;
  displayName: string | undefined;
  /** Undefined when the body has no `active`: a new user is then active, a replaced one keeps its state. */
  active: boolean | undefined;
  attributes: ScimUserAttributes;
}

/** A member reference as a client sends it. */
export interface ScimMemberInput {
  value: string;
  /** `User` or `Group` when the client sends it; the server looks the id up either way. */
  type: string | undefined;
}

/** A Group as a client sends it in POST or PUT, or as a PATCH leaves it. */
export interface ScimGroupInput {
  displayName: string;
  externalId: string | undefined;
  /** Undefined when the body has no `members`, which a PATCH keeps as it is. */
  members: ScimMemberInput[] | undefined;
}

/** Maximum length of a string attribute, in characters. */
const MAX_TEXT_LENGTH = 2048;

/** Maximum number of values in `emails` or `phoneNumbers`. */
const MAX_CONTACTS = 50;

/** Maximum number of members in one Group body. */
export const MAX_GROUP_MEMBERS = 50_000;

const text = z
  .string({ error: 'must be a string' })
  .max(MAX_TEXT_LENGTH, `must be at most ${MAX_TEXT_LENGTH} characters`)
  .refine((value) => !value.includes('\u0000'), 'must not contain the NUL character');

/**
 * A SCIM boolean. Entra ID sends `"True"` and `"False"` as strings in PATCH
 * operations, so those spellings are read as booleans too.
 */
const scimBoolean = z.preprocess(
  (value) =>
    typeof value === 'string' && /^(true|false)$/i.test(value.trim())
      ? value.trim().toLowerCase() === 'true'
      : value,
  z.boolean({ error: 'must be true or false' }),
);

const optionalText = text.nullish();

const contactSchema = z.object({
  value: optionalText,
  display: optionalText,
  type: optionalText,
  primary: scimBoolean.nullish(),
});

const nameSchema = z.object({
  formatted: optionalText,
  familyName: optionalText,
  givenName: optionalText,
  middleName: optionalText,
  honorificPrefix: optionalText,
  honorificSuffix: optionalText,
});

const enterpriseSchema = z.object({
  employeeNumber: optionalText,
  costCenter: optionalText,
  organization: optionalText,
  division: optionalText,
  department: optionalText,
  // Entra ID sends the manager as a bare id in PATCH operations.
  manager: z
    .union([
      text.transform((value) => ({ value })),
      z.object({ value: optionalText, displayName: optionalText, $ref: optionalText }),
    ])
    .nullish(),
});

const userSchema = z.object({
  userName: text.trim().min(1, 'must not be empty'),
  externalId: optionalText,
  displayName: optionalText,
  active: scimBoolean.nullish(),
  name: nameSchema.nullish(),
  nickName: optionalText,
  title: optionalText,
  userType: optionalText,
  preferredLanguage: optionalText,
  locale: optionalText,
  timezone: optionalText,
  emails: z
    .array(contactSchema)
    .max(MAX_CONTACTS, `must have at most ${MAX_CONTACTS} values`)
    .nullish(),
  phoneNumbers: z
    .array(contactSchema)
    .max(MAX_CONTACTS, `must have at most ${MAX_CONTACTS} values`)
    .nullish(),
  [SCIM_SCHEMAS.enterpriseUser]: enterpriseSchema.nullish(),
});

const memberSchema = z.object({
  value: text.trim().min(1, 'must not be empty'),
  type: optionalText,
});

const groupSchema = z.object({
  displayName: text.trim().min(1, 'must not be empty'),
  externalId: optionalText,
  members: z
    .array(memberSchema)
    .max(MAX_GROUP_MEMBERS, `must have at most ${MAX_GROUP_MEMBERS} members per request`)
    .nullish(),
});

/**
 * Attribute names of the User, Group and enterprise schemas by their
 * lowercase form. SCIM attribute names are case-insensitive (RFC 7643,
 * section 2.1), so keys are renamed to these spellings before parsing.
 */
const CANONICAL_NAMES = new Map(
  [
    'id',
    'externalId',
    'meta',
    'schemas',
    'userName',
    'name',
    'formatted',
    'familyName',
    'givenName',
    'middleName',
    'honorificPrefix',
    'honorificSuffix',
    'displayName',
    'nickName',
    'title',
    'userType',
    'preferredLanguage',
    'locale',
    'timezone',
    'active',
    'emails',
    'phoneNumbers',
    'value',
    'display',
    'type',
    'primary',
    'password',
    'groups',
    'members',
    '$ref',
    'employeeNumber',
    'costCenter',
    'organization',
    'division',
    'department',
    'manager',
    SCIM_SCHEMAS.enterpriseUser,
  ].map((name) => [name.toLowerCase(), name]),
);

/**
 * Returns a copy of a JSON value whose object keys use the schemas'
 * spelling. A top-level key written with the core schema's URN in front,
 * such as `urn:ietf:params:scim:schemas:core:2.0:User:userName`, loses the
 * prefix.
 */
export function canonicalizeKeys(value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => canonicalizeKeys(item, depth + 1));
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    let name = key;
    if (depth === 0) {
      for (const core of [SCIM_SCHEMAS.user, SCIM_SCHEMAS.group]) {
        if (name.toLowerCase().startsWith(`${core.toLowerCase()}:`)) {
          name = name.slice(core.length + 1);
        }
      }
    }
    result[CANONICAL_NAMES.get(name.toLowerCase()) ?? name] = canonicalizeKeys(item, depth + 1);
  }
  return result;
}

/** Returns the value at a parse issue's path, or undefined when the input has none. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') {
      return undefined;
    }
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Turns the first problems of a failed parse into one message that names each attribute. */
function describeIssues(resourceType: 'User' | 'Group', input: unknown, error: z.ZodError): string {
  const problems = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
      return `${path} is required`;
    }
    return path === '' ? issue.message : `${path} ${issue.message}`;
  });
  const more = error.issues.length > 5 ? ` (and ${error.issues.length - 5} more)` : '';
  return `The ${resourceType} is invalid: ${problems.join('; ')}${more}`;
}

function requireObject(resourceType: string, body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ScimError(400, `The request body must be a JSON object: a SCIM ${resourceType}`, {
      scimType: 'invalidSyntax',
    });
  }
  return canonicalizeKeys(body) as Record<string, unknown>;
}

/** Drops undefined and null members, so stored JSON holds only values the client set. */
function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(
    Object.entries(value).filter(([, item]) => item !== undefined && item !== null),
  ) as T;
}

function compactContacts(contacts: Array<Record<string, unknown>> | null | undefined) {
  if (!contacts) {
    return undefined;
  }
  return contacts.map((contact) => compact(contact) as ScimContact);
}

/**
 * Parses a User body. Read-only and write-only attributes (`id`, `meta`,
 * `groups`, `password`) and attributes of no known schema are ignored, so a
 * password that Okta sends is never stored. Throws a ScimError 400
 * (`invalidValue`) that names each invalid attribute.
 */
export function parseUserInput(body: unknown): ScimUserInput {
  const input = requireObject('User', body);
  const parsed = userSchema.safeParse(input);
  if (!parsed.success) {
    throw new ScimError(400, describeIssues('User', input, parsed.error), {
      scimType: 'invalidValue',
    });
  }
  const data = parsed.data;

  const attributes: ScimUserAttributes = compact({
    name: data.name ? (compact(data.name) as ScimName) : undefined,
    nickName: data.nickName ?? undefined,
    title: data.title ?? undefined,
    userType: data.userType ?? undefined,
    preferredLanguage: data.preferredLanguage ?? undefined,
    locale: data.locale ?? undefined,
    timezone: data.timezone ?? undefined,
    emails: compactContacts(data.emails),
    phoneNumbers: compactContacts(data.phoneNumbers),
    enterprise: undefined as ScimEnterpriseUser | undefined,
  });
  const enterprise = data[SCIM_SCHEMAS.enterpriseUser];
  if (enterprise) {
    const { manager, ...rest } = enterprise;
    const value: ScimEnterpriseUser = compact(rest) as ScimEnterpriseUser;
    if (manager) {
      const displayName = 'displayName' in manager ? manager.displayName : undefined;
      value.manager = compact({
        value: manager.value,
        displayName,
      }) as ScimEnterpriseUser['manager'];
    }
    if (Object.keys(value).length > 0) {
      attributes.enterprise = value;
    }
  }

  return {
    userName: data.userName,
    externalId: data.externalId ?? undefined,
    displayName: data.displayName ?? undefined,
    active: data.active ?? undefined,
    attributes,
  };
}

/** Parses a Group body. Throws a ScimError 400 (`invalidValue`) that names each invalid attribute. */
export function parseGroupInput(body: unknown): ScimGroupInput {
  const input = requireObject('Group', body);
  const parsed = groupSchema.safeParse(input);
  if (!parsed.success) {
    throw new ScimError(400, describeIssues('Group', input, parsed.error), {
      scimType: 'invalidValue',
    });
  }
  const data = parsed.data;
  return {
    displayName: data.displayName,
    externalId: data.externalId ?? undefined,
    members: data.members?.map((member) => ({
      value: member.value,
      type: member.type ?? undefined,
    })),
  };
}
