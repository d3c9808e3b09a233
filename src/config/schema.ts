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
      })
      .strict()
      .default({ cookieName: 'portal_session', maxAgeHours: 12 }),
    oidc: z
      .object({
        issuer: httpUrl,
        clientId: nonEmpty,
        clientSecret: z.string().optional(),
        scopes: z.array(nonEmpty).default(['openid', 'profile', 'email']),
        groupsClaim: nonEmpty.default('groups'),
        clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
      })
      .strict()
      .optional(),
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
}

const shellNodeSchema: z.ZodType<ShellNodeConfig> = z.lazy(() =>
  z
    .object({
      pathSegment: nonEmpty,
      label: z.string().optional(),
      viewUrl: z.string().optional(),
      icon: z.string().optional(),
      category: z.string().optional(),
      hideFromNav: z.boolean().optional(),
      context: z.record(z.string(), z.unknown()).optional(),
      permission: nonEmpty.optional(),
      public: z.boolean().optional(),
      children: z.array(shellNodeSchema).optional(),
    })
    .strict(),
);

const shellSchema = z
  .object({
    title: z.string().default('Backstage Luigi'),
    nodes: z.array(shellNodeSchema).default([]),
  })
  .strict();

const permissionSchema = z
  .object({
    rolesFile: nonEmpty,
    /** Whether membership of a child group grants what its parent groups own. */
    transitiveGroupOwnership: z.boolean().default(true),
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
    auth: authSchema.default({ session: { cookieName: 'portal_session', maxAgeHours: 12 } }),
    catalog: catalogSchema.default({
      locations: [],
      refresh: { intervalSeconds: 300, watch: true },
    }),
    permission: permissionSchema,
    shell: shellSchema.default({ title: 'Backstage Luigi', nodes: [] }),
  })
  .strict();

export type AppConfig = z.infer<typeof appConfigSchema>;
export type DatabaseConfig = AppConfig['database'];
export type CatalogConfig = AppConfig['catalog'];
export type CatalogLocationConfig = CatalogConfig['locations'][number];
export type AuthConfig = AppConfig['auth'];
export type DevelopmentUserConfig = z.infer<typeof developmentUserSchema>;

/**
 * Dotted paths of config fields that hold file paths. A relative value is
 * resolved against the folder of the config file that sets it, and `*`
 * stands for every item of an array.
 */
export const CONFIG_PATH_FIELDS: readonly string[] = [
  'database.connection.filename',
  'catalog.locations.*.target',
  'permission.rolesFile',
];
