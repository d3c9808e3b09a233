/** URNs of the SCIM schemas and messages this server reads and writes (RFC 7643, RFC 7644). */
export const SCIM_SCHEMAS = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
} as const;

/** The media type of SCIM messages; plain application/json is accepted too. */
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

/** Maximum number of resources in one list response, whatever `count` requests. */
export const MAX_PAGE_SIZE = 1000;

/** Number of resources in one list response when `count` is absent. */
export const DEFAULT_PAGE_SIZE = 100;

interface AttributeOptions {
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  subAttributes?: SchemaAttribute[];
  referenceTypes?: string[];
  description: string;
}

/** One attribute definition of the Schemas endpoint (RFC 7643, section 7). */
export interface SchemaAttribute {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference';
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: string;
  returned: string;
  uniqueness: string;
  subAttributes?: SchemaAttribute[];
  referenceTypes?: string[];
}

function attribute(
  name: string,
  type: SchemaAttribute['type'],
  options: AttributeOptions,
): SchemaAttribute {
  const definition: SchemaAttribute = {
    name,
    type,
    multiValued: options.multiValued ?? false,
    description: options.description,
    required: options.required ?? false,
    caseExact: options.caseExact ?? false,
    mutability: options.mutability ?? 'readWrite',
    returned: options.returned ?? 'default',
    uniqueness: options.uniqueness ?? 'none',
  };
  if (options.subAttributes) {
    definition.subAttributes = options.subAttributes;
  }
  if (options.referenceTypes) {
    definition.referenceTypes = options.referenceTypes;
  }
  return definition;
}

function text(name: string, description: string, options: Partial<AttributeOptions> = {}) {
  return attribute(name, 'string', { ...options, description });
}

const multiValuedContact = (name: string, description: string) =>
  attribute(name, 'complex', {
    multiValued: true,
    description,
    subAttributes: [
      text('value', 'The address or number.'),
      text('display', 'A human-readable form of the value.'),
      text('type', 'A label such as work or home.'),
      attribute('primary', 'boolean', { description: 'Whether this is the preferred value.' }),
    ],
  });

const USER_ATTRIBUTES: SchemaAttribute[] = [
  text(
    'userName',
    'Unique identifier of the user, compared without case; the User entity name derives from it.',
    {
      required: true,
      uniqueness: 'server',
    },
  ),
  attribute('name', 'complex', {
    description: "The components of the user's name.",
    subAttributes: [
      text('formatted', 'The full name.'),
      text('familyName', 'The family name.'),
      text('givenName', 'The given name.'),
      text('middleName', 'The middle name.'),
      text('honorificPrefix', 'Honorific prefix, such as Dr.'),
      text('honorificSuffix', 'Honorific suffix, such as III.'),
    ],
  }),
  text('displayName', "The user's name as shown; the User entity's spec.profile.displayName."),
  text('nickName', 'A casual name.'),
  text('title', 'Job title.'),
  text('userType', 'The relation to the organisation, such as Employee.'),
  text('preferredLanguage', 'Preferred language, such as en-GB.'),
  text('locale', 'Locale for formatting, such as en-GB.'),
  text('timezone', 'Time zone, such as Europe/Berlin.'),
  attribute('active', 'boolean', {
    description: 'Whether the user may sign in; a deactivated user has no User entity.',
  }),
  multiValuedContact(
    'emails',
    'Email addresses; the primary one, else the first, becomes spec.profile.email.',
  ),
  multiValuedContact('phoneNumbers', 'Phone numbers.'),
  attribute('groups', 'complex', {
    multiValued: true,
    mutability: 'readOnly',
    description: 'Provisioned groups the user is a direct member of; change them through Groups.',
    subAttributes: [
      text('value', 'The id of the group.', { mutability: 'readOnly' }),
      attribute('$ref', 'reference', {
        description: 'The URI of the group.',
        mutability: 'readOnly',
        referenceTypes: ['Group'],
      }),
      text('display', 'The display name of the group.', { mutability: 'readOnly' }),
    ],
  }),
];

const ENTERPRISE_USER_ATTRIBUTES: SchemaAttribute[] = [
  text('employeeNumber', 'Employee number.'),
  text('costCenter', 'Cost centre.'),
  text('organization', 'Organisation.'),
  text('division', 'Division.'),
  text('department', 'Department.'),
  attribute('manager', 'complex', {
    description: "The user's manager.",
    subAttributes: [
      text('value', 'The id of the manager.'),
      attribute('$ref', 'reference', {
        description: 'The URI of the manager.',
        referenceTypes: ['User'],
      }),
      text('displayName', 'The display name of the manager.', { mutability: 'readOnly' }),
    ],
  }),
];

const GROUP_ATTRIBUTES: SchemaAttribute[] = [
  text('displayName', 'Name of the group; the Group entity name derives from it.', {
    required: true,
  }),
  attribute('members', 'complex', {
    multiValued: true,
    description:
      'Direct members: provisioned users, or provisioned groups that become child groups.',
    subAttributes: [
      text('value', 'The id of the member.', { mutability: 'immutable' }),
      attribute('$ref', 'reference', {
        description: 'The URI of the member.',
        mutability: 'immutable',
        referenceTypes: ['User', 'Group'],
      }),
      text('display', 'The display name of the member.', { mutability: 'readOnly' }),
      text('type', 'User or Group.', { mutability: 'immutable' }),
    ],
  }),
];

/** Builds the documents of the Schemas endpoint, with their locations under `base`. */
export function schemaDocuments(base: string): Array<Record<string, unknown>> {
  const document = (id: string, name: string, description: string, attributes: unknown) => ({
    schemas: [SCIM_SCHEMAS.schema],
    id,
    name,
    description,
    attributes,
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${id}` },
  });
  return [
    document(SCIM_SCHEMAS.user, 'User', 'User account', USER_ATTRIBUTES),
    document(SCIM_SCHEMAS.group, 'Group', 'Group', GROUP_ATTRIBUTES),
    document(
      SCIM_SCHEMAS.enterpriseUser,
      'EnterpriseUser',
      'Enterprise user',
      ENTERPRISE_USER_ATTRIBUTES,
    ),
  ];
}

/** Builds the documents of the ResourceTypes endpoint. */
export function resourceTypeDocuments(base: string): Array<Record<string, unknown>> {
  return [
    {
      schemas: [SCIM_SCHEMAS.resourceType],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User account',
      schema: SCIM_SCHEMAS.user,
      schemaExtensions: [{ schema: SCIM_SCHEMAS.enterpriseUser, required: false }],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [SCIM_SCHEMAS.resourceType],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: SCIM_SCHEMAS.group,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

/** Builds the ServiceProviderConfig document: what this server supports. */
export function serviceProviderConfig(base: string) {
  return {
    schemas: [SCIM_SCHEMAS.serviceProviderConfig],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description:
          'A provisioning token created with `backstage-luigi scim token create`, sent as Authorization: Bearer <token>',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}
