import { z } from 'zod';

const nonEmpty = z.string().trim().min(1, 'must not be empty');

const httpUrl = z
  .string()
  .url('must be an absolute URL such as http://localhost:7007')
  .refine((value) => /^https?:\/\//.test(value), 'must start with http:// or https://');

const sqliteConnection = z.union([
  z.literal(':memory:'),
  z.object({ filename: nonEmpty }).strict(),
]);

const postgresConnection = z.union([
  nonEmpty.refine(
    (value) => /^postgres(ql)?:\/\//.test(value),
    'must be a connection string such as postgres://user@127.0.0.1:5432/portal',
  ),
  z
    .object({
      host: nonEmpty,
      port: z.number().int().positive().default(5432),
      user: nonEmpty,
      password: z.string().optional(),
      database: nonEmpty,
    })
    .strict(),
]);

const databaseSchema = z.discriminatedUnion('client', [
  z.object({ client: z.literal('better-sqlite3'), connection: sqliteConnection }).strict(),
  z
    .object({
      client: z.literal('pg'),
      connection: postgresConnection,
      pool: z
        .object({ max: z.number().int().positive().default(10) })
        .strict()
        .default({ max: 10 }),
      /**
       * Longest time one SQL statement may run, in milliseconds, so no query
       * keeps a pooled connection for minutes; 0 turns the limit off. Unset
       * means 10,000 (see connectDatabase).
       */
      statementTimeoutMs: z.number().int().min(0).optional(),
    })
    .strict(),
]);

const developmentUserSchema = z
  .object({
    /** Login name typed on the development provider's sign-in form. */
    username: nonEmpty,
    password: nonEmpty,
    name: nonEmpty,
    email: z.string().email('must be an email address such as ada@example.com'),
    groups: z.array(nonEmpty).default([]),
  })
  .strict();

/**
 * Identity provider profiles. Each sets the default groups claim and group
 * mapping rules for the claim shape that provider sends.
 */
export const OIDC_PROVIDER_PROFILES = ['generic', 'okta', 'auth0', 'keycloak', 'entra'] as const;

/** An annotation key as the catalog model accepts it: an optional DNS prefix and `/`, then a name. */
const ANNOTATION_KEY_PATTERN =
  /^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9](?:[-_.A-Za-z0-9]*[A-Za-z0-9])?$/;

/** A namespace or entity name as the catalog model accepts it. */
const ENTITY_NAME_PATTERN = /^[A-Za-z0-9](?:[-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?$/;

/** A `{name}` or `{1}` placeholder in a group mapping template. */
const TEMPLATE_PLACEHOLDER = /\{([^{}]*)\}/g;

/**
 * Checks that a pattern rule compiles and that its template uses only groups
 * that the pattern captures and produces a Group reference.
 */
function checkPatternRule(rule: { pattern: string; template: string }, context: z.RefinementCtx) {
  let groupCount: number;
  try {
    // The `|` alternative matches the empty string, so the result has one slot per group.
    groupCount = (new RegExp(`(?:${rule.pattern})|`, 'u').exec('')?.length ?? 1) - 1;
  } catch (error) {
    context.addIssue({
      code: 'custom',
      path: ['pattern'],
      message: `not a valid regular expression (${(error as Error).message.split(': ').at(-1)}): write a JavaScript pattern such as /(?<path>.+)`,
    });
    return;
  }

  const named = [...rule.pattern.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((match) => match[1]);
  const available = [...named.map((name) => `{${name}}`), '{0}'];
  for (let index = 1; index <= groupCount; index += 1) {
    available.push(`{${index}}`);
  }
  for (const placeholder of rule.template.matchAll(TEMPLATE_PLACEHOLDER)) {
    const name = placeholder[1] ?? '';
    const index = /^\d+$/.test(name) ? Number(name) : undefined;
    const known = index === undefined ? named.includes(name) : index <= groupCount;
    if (!known) {
      context.addIssue({
        code: 'custom',
        path: ['template'],
        message: `placeholder {${name}} names no group of the pattern: use ${available.join(', ')}`,
      });
    }
  }

  const kind = /^([^:/{}]+):/.exec(rule.template)?.[1];
  if (kind !== undefined && kind.toLowerCase() !== 'group') {
    context.addIssue({
      code: 'custom',
      path: ['template'],
      message: `must produce a Group reference, not a ${kind} one: start it with group: or leave the kind out`,
    });
  }
}

/**
 * One rule that turns a groups-claim value into Group references. Rules are
 * tried in order, and the first one that finds a Group decides.
 */
const groupMappingRuleSchema = z.discriminatedUnion('match', [
  z
    .object({
      match: z.literal('name'),
      /** Namespace of a bare group name; a full reference keeps its own. */
      namespace: z
        .string()
        .regex(ENTITY_NAME_PATTERN, 'must be a namespace name such as default')
        .default('default'),
    })
    .strict(),
  z
    .object({
      match: z.literal('annotation'),
      /** Annotation of the Group entity that contains the provider's group id. */
      annotation: z
        .string()
        .regex(
          ANNOTATION_KEY_PATTERN,
          'must be an annotation key such as graph.microsoft.com/group-id',
        ),
    })
    .strict(),
  z
    .object({
      match: z.literal('pattern'),
      /** A JavaScript regular expression that must match the whole claim value. */
      pattern: nonEmpty,
      /** The Group reference to build, with `{name}` or `{1}` for what the pattern captured. */
      template: nonEmpty,
    })
    .strict()
    .superRefine(checkPatternRule),
]);

const oidcSchema = z
  .object({
    issuer: httpUrl,
    clientId: nonEmpty,
    clientSecret: z.string().optional(),
    scopes: z.array(nonEmpty).default(['openid', 'profile', 'email']),
    /** The provider whose claim shape to expect, which sets the defaults of groupsClaim and groupMapping. */
    profile: z.enum(OIDC_PROVIDER_PROFILES).default('generic'),
    /** The claim that lists the user's groups; unset means the profile's default. */
    groupsClaim: nonEmpty.optional(),
    /** Unset means the profile's rules. */
    groupMapping: z
      .array(groupMappingRuleSchema)
      .min(1, "must list at least one rule; leave groupMapping out to use the profile's rules")
      .optional(),
    clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
    /** Accepts the provider's access tokens as `Authorization: Bearer` on the API. */
    bearer: z
      .object({
        /** `aud` values accepted: the identifier of the portal's API at the provider. */
        audiences: z.array(nonEmpty).min(1, 'must list at least one audience'),
        /** The `iss` of access tokens, when it differs from auth.oidc.issuer. */
        issuer: httpUrl.optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((oidc, context) => {
    if (oidc.profile === 'auth0' && oidc.groupsClaim === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['groupsClaim'],
        message:
          'is required with profile auth0, which sends groups in a namespaced custom claim: set it to that claim, such as https://example.com/groups',
      });
    }
  });

const authSchema = z
  .object({
    session: z
      .object({
        /**
         * Key from which the portal derives the key that encrypts the
         * short-lived sign-in transaction cookie (state, nonce, PKCE verifier,
         * return path). Session cookies need no key: they carry a random id
         * whose SHA-256 is looked up in the database. When absent, the portal
         * generates a secret and keeps it in the database, so sign-ins in
         * progress survive a restart and replicas share it.
         */
        secret: z.string().min(32, 'must be at least 32 characters').optional(),
        cookieName: nonEmpty.default('portal_session'),
        /** At most 30 days: a longer session outlives most access reviews. */
        maxAgeHours: z.number().positive().max(720).default(12),
        /** A session without a request for this long ends; at most 30 days. */
        idleTimeoutMinutes: z.number().positive().max(43_200).default(60),
      })
      .strict()
      .default({ cookieName: 'portal_session', maxAgeHours: 12, idleTimeoutMinutes: 60 }),
    oidc: oidcSchema.optional(),
    development: z
      .object({
        enabled: z.boolean().default(false),
        users: z.array(developmentUserSchema).default([]),
      })
      .strict()
      .optional(),
  })
  .strict();

const catalogRuleSchema = z
  .object({ allow: z.array(nonEmpty).min(1, 'must list at least one kind') })
  .strict();

const catalogLocationSchema = z
  .object({
    type: z.literal('file'),
    target: nonEmpty,
    rules: z.array(catalogRuleSchema).optional(),
  })
  .strict();

/** Default size limit of a catalog file and of a placeholder file: 5 MiB. */
export const DEFAULT_CATALOG_FILE_MAX_BYTES = 5 * 1024 * 1024;

/** Largest size limit the config accepts, 256 MiB, far above any real catalog file. */
const CATALOG_FILE_MAX_BYTES_LIMIT = 256 * 1024 * 1024;

const catalogFileBytes = z.number().int().min(1).max(CATALOG_FILE_MAX_BYTES_LIMIT);

const catalogSchema = z
  .object({
    locations: z.array(catalogLocationSchema).default([]),
    /**
     * Kinds any location may store. Unset means every kind but User and
     * Group, which only locations whose own rules allow them may store.
     */
    rules: z.array(catalogRuleSchema).optional(),
    /** Size limits in bytes; a larger file is reported and not read. */
    limits: z
      .object({
        maxFileBytes: catalogFileBytes.default(DEFAULT_CATALOG_FILE_MAX_BYTES),
        maxPlaceholderFileBytes: catalogFileBytes.default(DEFAULT_CATALOG_FILE_MAX_BYTES),
      })
      .strict()
      .optional(),
    refresh: z
      .object({
        /** 0 turns the interval off; at most a week. */
        intervalSeconds: z.number().int().min(0).max(604_800).default(300),
        watch: z.boolean().default(true),
      })
      .strict()
      .default({ intervalSeconds: 300, watch: true }),
  })
  .strict();

export interface ShellNodeConfig {
  pathSegment: string;
  label?: string | undefined;
  viewUrl?: string | undefined;
  icon?: string | undefined;
  category?: string | undefined;
  hideFromNav?: boolean | undefined;
  context?: Record<string, unknown> | undefined;
  permission?: string | undefined;
  public?: boolean | undefined;
  children?: ShellNodeConfig[] | undefined;
  /** Luigi's virtual tree: every path below the node opens the node's view. */
  virtualTree?: boolean | undefined;
  /** Luigi's view group: nodes of one group share a kept iframe. */
  viewGroup?: string | undefined;
  /** A link that leaves the shell, in place of a view. */
  externalLink?: { url: string; sameWindow?: boolean | undefined } | undefined;
  /**
   * A count shown beside the label, such as open approvals: the shell fetches
   * it from `url`, a path on the portal or a URL on an origin of `shell.allowedOrigins`.
   */
  badgeCounter?: { label: string; url: string } | undefined;
  /** Opens the node's view in a modal dialog instead of the main area. */
  openNodeInModal?: boolean | ShellModalSettings | undefined;
  /** Sandbox tokens the node's iframe gets on top of `allow-scripts allow-same-origin`. */
  sandbox?: SandboxToken[] | undefined;
  /** `aud` of the JWTs the node's micro frontend requests for its own backend. */
  audience?: string | undefined;
  /** Permissions that the node's backend reads from the JWT's `permissions` claim. */
  audiencePermissions?: string[] | undefined;
}

/**
 * Sandbox tokens that a node may add to its iframe, from the HTML standard's
 * list. `allow-scripts` and `allow-same-origin` are always set, and
 * `allow-top-navigation` is left out, so no view can replace the shell.
 */
export const SANDBOX_TOKENS = [
  'allow-downloads',
  'allow-forms',
  'allow-modals',
  'allow-orientation-lock',
  'allow-pointer-lock',
  'allow-popups',
  'allow-popups-to-escape-sandbox',
  'allow-presentation',
  'allow-storage-access-by-user-activation',
  'allow-top-navigation-by-user-activation',
] as const;

export type SandboxToken = (typeof SANDBOX_TOKENS)[number];

/** Luigi's modal settings of `openNodeInModal`. */
export interface ShellModalSettings {
  title?: string | undefined;
  size?: 'fullscreen' | 'l' | 'm' | 's' | undefined;
  width?: string | undefined;
  height?: string | undefined;
}

/** A CSS length for a modal's width or height, such as 600px, 80% or 40rem. */
const CSS_LENGTH = /^\d+(\.\d+)?(px|%|rem|em|vw|vh)$/;

const shellModalSchema = z
  .object({
    title: z.string().optional(),
    size: z.enum(['fullscreen', 'l', 'm', 's']).optional(),
    width: z.string().regex(CSS_LENGTH, 'use a CSS length such as 600px or 80%').optional(),
    height: z.string().regex(CSS_LENGTH, 'use a CSS length such as 400px or 60vh').optional(),
  })
  .strict();

/**
 * Fields of a shell node. The object is loose, so that an unknown key is
 * reported by `checkShellNodeKeys` with the node's route instead of only its
 * index in the config.
 */
const shellNodeFields = {
  pathSegment: nonEmpty,
  label: z.string().optional(),
  viewUrl: z.string().optional(),
  icon: z.string().optional(),
  category: z.string().optional(),
  hideFromNav: z.boolean().optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  permission: nonEmpty.optional(),
  public: z.boolean().optional(),
  get children() {
    return z.array(shellNodeSchema).optional();
  },
  virtualTree: z.boolean().optional(),
  viewGroup: nonEmpty.optional(),
  externalLink: z
    .object({ url: z.string().url('use an absolute URL'), sameWindow: z.boolean().optional() })
    .strict()
    .optional(),
  badgeCounter: z.object({ label: nonEmpty, url: nonEmpty }).strict().optional(),
  openNodeInModal: z.union([z.boolean(), shellModalSchema]).optional(),
  sandbox: z
    .array(
      z.enum(SANDBOX_TOKENS, {
        error: `use one of ${SANDBOX_TOKENS.join(', ')}; allow-scripts and allow-same-origin are always set`,
      }),
    )
    .optional(),
  audience: nonEmpty.optional(),
  audiencePermissions: z.array(nonEmpty).optional(),
};

/** Keys that a shell node may have; the shell reports any other key with the node's route. */
export const SHELL_NODE_KEYS: readonly string[] = Object.keys(shellNodeFields);

const shellNodeSchema: z.ZodType<ShellNodeConfig> = z.lazy(() => z.looseObject(shellNodeFields));

/**
 * Reports every unknown key of a node with the node's route, such as
 * `node 'catalog/:kind' has unknown key 'viewurl'`.
 */
function checkShellNodeKeys(
  nodes: readonly ShellNodeConfig[],
  parent: { route: string; path: (string | number)[] },
  context: z.RefinementCtx,
): void {
  nodes.forEach((node, index) => {
    const route = parent.route ? `${parent.route}/${node.pathSegment}` : node.pathSegment;
    const path = [...parent.path, index];
    for (const key of Object.keys(node)) {
      if (!SHELL_NODE_KEYS.includes(key)) {
        context.addIssue({
          code: 'custom',
          path: [...path, key],
          message: `node '${route}' has unknown key '${key}': remove it or use one of ${SHELL_NODE_KEYS.join(', ')}`,
        });
      }
    }
    checkShellNodeKeys(node.children ?? [], { route, path: [...path, 'children'] }, context);
  });
}

/** An origin such as https://tools.example.com or http://127.0.0.1:8080, with no path. */
const ORIGIN_PATTERN = /^https?:\/\/[^/?#\s]+$/i;

/** A permission name: lowercase words joined by dots, such as `tools.deployments.view`. */
const PERMISSION_NAME_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

const shellSchema = z
  .object({
    title: z.string().default('Backstage Luigi'),
    nodes: z.array(shellNodeSchema).default([]),
    /**
     * Origins that catalog-registered micro frontends may load from. A
     * MicroFrontend entity whose viewUrl has another origin is not served.
     */
    allowedOrigins: z
      .array(
        z
          .string()
          .regex(ORIGIN_PATTERN, 'use an origin such as https://tools.example.com, with no path'),
      )
      .default([]),
    /**
     * Basic permissions that guard catalog-registered micro frontends, so
     * that roles can grant them. Their action is `use`.
     */
    permissions: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(
                PERMISSION_NAME_PATTERN,
                'use lowercase words joined by dots, such as tools.deployments.view',
              ),
            description: z.string().default('Use a micro frontend registered in the catalog'),
          })
          .strict(),
      )
      .default([]),
    /**
     * Route of the entity page that entity tabs of MicroFrontend entities
     * are added below.
     */
    entityPage: nonEmpty.default('catalog/:kind/:namespace/:name'),
    /** JWTs that micro frontends request for their own backends. */
    jwt: z
      .object({
        /**
         * PEM file of the Ed25519 private key that signs the JWTs. Without
         * it the portal generates one beside the SQLite file of the embedded
         * default, or under ./data.
         */
        keyFile: nonEmpty.optional(),
        /** Seconds from issue to expiry, 30 to 300. */
        lifetimeSeconds: z.number().int().min(30).max(300).default(300),
      })
      .strict()
      .default({ lifetimeSeconds: 300 }),
  })
  .strict()
  .superRefine((shell, context) =>
    checkShellNodeKeys(shell.nodes, { route: '', path: ['nodes'] }, context),
  );

const permissionSchema = z
  .object({
    rolesFile: nonEmpty,
    /** Whether membership of a child group grants what its parent groups own. */
    transitiveGroupOwnership: z.boolean().default(true),
  })
  .strict();

/** A retention period: a whole number and a unit, h (hours), d (days), w (weeks) or y (365 days). */
export const AUDIT_RETENTION_PATTERN = /^([1-9][0-9]{0,5})\s*([hdwy])$/;

const auditPublicKeySchema = z.union([
  z.object({ file: nonEmpty }).strict(),
  z.object({ pem: nonEmpty }).strict(),
]);

const auditForwardSchema = z
  .object({
    /** The SIEM collector's endpoint; it receives each batch of records as one JSON POST. */
    url: httpUrl,
    /**
     * Headers sent with every batch, such as Authorization. Take secret
     * values from the environment: `Authorization: Bearer ${SIEM_TOKEN}`.
     * The forwarder checks them when it is created, so that no message
     * repeats a value.
     */
    headers: z.record(z.string(), z.string()).default({}),
    /** Records per request, 1 to 1,000. */
    batchSize: z.number().int().min(1).max(1_000).default(100),
    /** Milliseconds between looks for new records once every record is forwarded. */
    intervalMs: z.number().int().min(50).max(60_000).default(1_000),
    /** Milliseconds after which a request without a response counts as failed. */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    retry: z
      .object({
        /** Milliseconds before the first retry of a failed batch; each further retry waits twice as long. */
        initialDelayMs: z.number().int().min(10).max(60_000).default(1_000),
        /** Maximum wait between retries, in milliseconds. */
        maxDelayMs: z.number().int().min(10).max(3_600_000).default(60_000),
      })
      .strict()
      .refine(
        (retry) => retry.initialDelayMs <= retry.maxDelayMs,
        'initialDelayMs must not be greater than maxDelayMs',
      )
      .default({ initialDelayMs: 1_000, maxDelayMs: 60_000 }),
  })
  .strict();

const auditSchema = z
  .object({
    /**
     * How long records are kept before `audit prune` and the server's timer
     * may remove them, such as `400d`. Unset keeps every record.
     */
    retention: z
      .string()
      .trim()
      .regex(
        AUDIT_RETENTION_PATTERN,
        'must be a whole number and a unit: h (hours), d (days), w (weeks) or y (365 days), such as 400d',
      )
      .optional(),
    checkpoint: z
      .object({
        /** Seconds between signed checkpoints of the chain's head, at most a day. 0 turns the timer off. */
        intervalSeconds: z.number().int().min(0).max(86_400).default(300),
      })
      .strict()
      .default({ intervalSeconds: 300 }),
    signing: z
      .object({
        /** PEM file of the Ed25519 private key that signs checkpoints. */
        privateKeyFile: nonEmpty.optional(),
        /** The same key as PEM text, usually `${AUDIT_SIGNING_KEY}`. Set this or privateKeyFile, not both. */
        privateKey: nonEmpty.optional(),
        /** More public keys that verification accepts, such as the keys used before a rotation. */
        publicKeys: z.array(auditPublicKeySchema).default([]),
      })
      .strict()
      .refine(
        (signing) => signing.privateKey === undefined || signing.privateKeyFile === undefined,
        'set either privateKey or privateKeyFile, not both',
      )
      .default({ publicKeys: [] }),
    /** Sends every record, in order, to a SIEM collector over HTTP; unset sends nothing. */
    forward: auditForwardSchema.optional(),
  })
  .strict();

/** The deployment executor: a signed webhook or a GitHub Actions workflow dispatch. */
const deploymentExecutorSchema = z
  .object({
    /** POSTs each approved deployment as JSON, signed with HMAC-SHA256 (docs/workflows-executors.md). */
    webhook: z
      .object({
        url: httpUrl,
        /** The shared HMAC key, usually `${DEPLOY_WEBHOOK_SECRET}`; at least 32 characters. */
        secret: z
          .string()
          .min(32, 'must be at least 32 characters: generate one with `openssl rand -hex 32`'),
        /** Seconds to wait for the receiver's response before the attempt counts as timed out. */
        timeoutSeconds: z.number().positive().max(300).default(10),
      })
      .strict()
      .optional(),
    /** Starts a GitHub Actions workflow with a workflow_dispatch event. */
    githubActions: z
      .object({
        /** The REST API root; GitHub Enterprise Server uses https://HOST/api/v3. */
        apiUrl: httpUrl.default('https://api.github.com'),
        /** A token with the Actions write permission on the repositories, usually `${GITHUB_TOKEN}`. */
        token: nonEmpty,
        /** The default `owner/repo` for entities without the backstage-luigi.io/github-workflow annotation. */
        repository: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/repo, such as acme/orders')
          .optional(),
        /** The default workflow file name or id, such as deploy.yml. */
        workflow: nonEmpty.optional(),
        /** The branch or tag whose workflow file runs when the request names no gitRef. */
        ref: nonEmpty.default('main'),
        /** Seconds to wait for GitHub's response before the attempt counts as timed out. */
        timeoutSeconds: z.number().positive().max(300).default(10),
      })
      .strict()
      .optional(),
  })
  .strict()
  // NOTE: only "neither" is checked here, because a message about the whole
  // object quotes its value and would show the secret or token. The executor
  // factory rejects "both" and a repository without a workflow.
  .refine(
    (deployment) => deployment.webhook !== undefined || deployment.githubActions !== undefined,
    'set exactly one of webhook or githubActions',
  );

/** Maximum length of a session policy that STS accepts, as compact JSON text. */
const MAX_SESSION_POLICY_LENGTH = 2048;

/** An IAM role that the aws-credentials executor may assume. */
const awsRoleSchema = z
  .object({
    arn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
        'must be an IAM role ARN such as arn:aws:iam::123456789012:role/deployer',
      ),
    /**
     * An IAM policy that narrows the session below the role's own
     * permissions, as a YAML map or JSON text. STS accepts at most 2,048
     * characters of compact JSON.
     */
    sessionPolicy: z
      .union([z.string(), z.record(z.string(), z.unknown())])
      .transform((policy, context) => {
        let parsed: unknown = policy;
        if (typeof policy === 'string') {
          try {
            parsed = JSON.parse(policy);
          } catch {
            context.addIssue({ code: 'custom', message: 'must be JSON text of an IAM policy' });
            return z.NEVER;
          }
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          context.addIssue({ code: 'custom', message: 'must be an IAM policy object' });
          return z.NEVER;
        }
        const text = JSON.stringify(parsed);
        if (text.length > MAX_SESSION_POLICY_LENGTH) {
          context.addIssue({
            code: 'custom',
            message: `is ${text.length} characters as compact JSON; STS accepts at most ${MAX_SESSION_POLICY_LENGTH}`,
          });
          return z.NEVER;
        }
        return text;
      })
      .optional(),
    /** The role's MaxSessionDuration in IAM, 900 to 43,200 seconds; AssumeRole fails above it. */
    maxDurationSeconds: z.number().int().min(900).max(43_200).optional(),
  })
  .strict();

/**
 * The aws-credentials executor: STS AssumeRole settings. The portal signs
 * its calls with the AWS SDK's default credential chain (environment,
 * shared config file, container or instance role).
 */
export const awsCredentialsExecutorSchema = z
  .object({
    /** The AWS Region whose STS endpoint issues the credentials, such as eu-central-1. */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS Region such as eu-central-1'),
    /** Another STS endpoint, such as an interface VPC endpoint; unset uses the Region's endpoint. */
    endpoint: httpUrl.optional(),
    /** The roles that requests may name, by name, such as `deployer`. */
    roles: z
      .record(
        z
          .string()
          .regex(
            /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
            'must be 1 to 63 letters, digits, "_", "." or "-", starting with a letter or digit',
          ),
        awsRoleSchema,
      )
      .refine((roles) => Object.keys(roles).length > 0, 'must list at least one role'),
  })
  .strict();

/** The destination of request notifications: a Slack-compatible webhook. */
const workflowNotificationsSchema = z
  .object({
    webhook: z
      .object({
        /** An incoming-webhook URL, usually `${SLACK_WEBHOOK_URL}` because its path is a credential. */
        url: httpUrl,
      })
      .strict(),
  })
  .strict();

/** Settings of the request engine for running approved requests and expiring pending ones. */
const workflowEngineSchema = z
  .object({
    /** Attempts per request, the first included, before a retryable fault fails it. */
    maxAttempts: z.number().int().min(1).max(100).default(5),
    /** Wait before the second attempt, in milliseconds; it doubles for each later attempt. */
    retryBaseDelayMs: z.number().int().min(0).max(3_600_000).default(1000),
    /** Maximum wait between two attempts, in milliseconds. */
    retryMaxDelayMs: z.number().int().min(0).max(86_400_000).default(300_000),
    /**
     * Seconds a replica keeps its lease on a request it executes. Another replica, or the
     * same one after a restart, takes over a request whose lease has run out.
     */
    leaseSeconds: z.number().positive().max(86_400).default(120),
    /** Seconds between scans for approved requests that no replica runs yet. */
    pollIntervalSeconds: z.number().positive().max(3600).default(5),
    /** Seconds between sweeps that expire pending requests past their lifetime. */
    expirySweepIntervalSeconds: z.number().positive().max(86_400).default(60),
  })
  .strict();

const workflowsSchema = z
  .object({
    /** The approval rules file; without it the request engine is off and its routes return 404. */
    rulesFile: nonEmpty.optional(),
    engine: workflowEngineSchema.prefault({}),
    deployment: deploymentExecutorSchema.optional(),
    awsCredentials: awsCredentialsExecutorSchema.optional(),
    notifications: workflowNotificationsSchema.optional(),
  })
  .strict();

const scimSchema = z
  .object({
    /**
     * Serves SCIM 2.0 provisioning under /scim/v2. Every request needs a
     * token from `backstage-luigi scim token create`.
     */
    enabled: z.boolean().default(false),
    /** `spec.type` of every Group entity that SCIM provisions. */
    groupType: nonEmpty.default('team'),
    /**
     * Another annotation that receives each provisioned Group's externalId,
     * such as graph.microsoft.com/group-id for Entra ID, whose group ids the
     * groups claim carries.
     */
    groupExternalIdAnnotation: z
      .string()
      .regex(
        ANNOTATION_KEY_PATTERN,
        'must be an annotation key such as graph.microsoft.com/group-id',
      )
      .optional(),
  })
  .strict();

export const appConfigSchema = z
  .object({
    app: z
      .object({
        title: z.string().default('Backstage Luigi'),
        baseUrl: httpUrl.default('http://localhost:7007'),
      })
      .strict()
      .default({ title: 'Backstage Luigi', baseUrl: 'http://localhost:7007' }),
    backend: z
      .object({
        listen: z
          .object({
            host: nonEmpty.default('127.0.0.1'),
            port: z.number().int().min(0).max(65535).default(7007),
          })
          .strict()
          .default({ host: '127.0.0.1', port: 7007 }),
      })
      .strict()
      .default({ listen: { host: '127.0.0.1', port: 7007 } }),
    database: databaseSchema,
    auth: authSchema.default({
      session: { cookieName: 'portal_session', maxAgeHours: 12, idleTimeoutMinutes: 60 },
    }),
    catalog: catalogSchema.default({
      locations: [],
      refresh: { intervalSeconds: 300, watch: true },
    }),
    permission: permissionSchema,
    shell: shellSchema.default({
      title: 'Backstage Luigi',
      nodes: [],
      allowedOrigins: [],
      permissions: [],
      entityPage: 'catalog/:kind/:namespace/:name',
      jwt: { lifetimeSeconds: 300 },
    }),
    audit: auditSchema.default({
      checkpoint: { intervalSeconds: 300 },
      signing: { publicKeys: [] },
    }),
    scim: scimSchema.default({ enabled: false, groupType: 'team' }),
    workflows: workflowsSchema.prefault({}),
  })
  .strict();

export type AppConfig = z.infer<typeof appConfigSchema>;
export type DatabaseConfig = AppConfig['database'];
export type CatalogConfig = AppConfig['catalog'];
export type CatalogLocationConfig = CatalogConfig['locations'][number];
export type AuthConfig = AppConfig['auth'];
export type DevelopmentUserConfig = z.infer<typeof developmentUserSchema>;
export type OidcConfig = z.infer<typeof oidcSchema>;
export type GroupMappingRuleConfig = z.infer<typeof groupMappingRuleSchema>;
export type AuditConfig = AppConfig['audit'];
export type ScimConfig = AppConfig['scim'];
export type AuditForwardConfig = NonNullable<AuditConfig['forward']>;
export type WorkflowsConfig = AppConfig['workflows'];

/**
 * Dotted paths of config fields that hold file paths. A relative value is
 * resolved against the folder of the config file that sets it, and `*`
 * stands for every item of an array.
 */
export const CONFIG_PATH_FIELDS: readonly string[] = [
  'database.connection.filename',
  'catalog.locations.*.target',
  'permission.rolesFile',
  'audit.signing.privateKeyFile',
  'audit.signing.publicKeys.*.file',
  'workflows.rulesFile',
];
