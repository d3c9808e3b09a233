import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import type { Logger } from 'pino';
import type { DatabaseConfig } from '../config/index.js';
import { ConfigError } from '../errors/index.js';

/** Name of the key file generated when `shell.jwt.keyFile` is not set. */
export const GENERATED_JWT_KEY_FILE_NAME = 'micro-frontend-jwt-key.pem';

/** The key that signs micro-frontend JWTs, and its public half as published in the JWKS. */
export interface JwtSigningKey {
  /** `kid` of the JWT header and of the published key: the key's JWK thumbprint (RFC 7638). */
  keyId: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/**
 * Returns the path of the key generated when the config names none: beside
 * the SQLite file of the embedded default, otherwise under ./data of the
 * working directory.
 */
export function defaultJwtKeyFile(database: DatabaseConfig, cwd: string = process.cwd()): string {
  if (database.client === 'better-sqlite3' && database.connection !== ':memory:') {
    return path.join(path.dirname(database.connection.filename), GENERATED_JWT_KEY_FILE_NAME);
  }
  return path.resolve(cwd, 'data', GENERATED_JWT_KEY_FILE_NAME);
}

/**
 * Loads the Ed25519 key of `shell.jwt.keyFile`, or the generated default key,
 * creating that one on first use. Throws ConfigError naming the file and the
 * fix when a key cannot be read, created or used.
 */
export async function loadJwtSigningKey(options: {
  keyFile: string | undefined;
  database: DatabaseConfig;
  logger?: Logger | undefined;
  cwd?: string | undefined;
}): Promise<JwtSigningKey> {
  let pem: string;
  let source: string;
  if (options.keyFile !== undefined) {
    source = options.keyFile;
    pem = readKeyFile(options.keyFile);
  } else {
    source = defaultJwtKeyFile(options.database, options.cwd);
    pem = readOrGenerateKeyFile(source, options.logger);
  }

  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw keyError(
      `${source} is not a PEM private key (${(error as Error).message}): use an Ed25519 key in PKCS #8 PEM form, as \`openssl genpkey -algorithm ed25519\` writes it`,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw keyError(
      `${source} is a ${privateKey.asymmetricKeyType ?? 'symmetric'} key, not Ed25519: create one with \`openssl genpkey -algorithm ed25519 -out ${source}\``,
    );
  }

  const publicJwk = await exportJWK(createPublicKey(privateKey));
  const keyId = await calculateJwkThumbprint(publicJwk);
  return { keyId, privateKey, publicJwk: { ...publicJwk, kid: keyId, alg: 'EdDSA', use: 'sig' } };
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw keyError(
      `${file} cannot be read: ${(error as Error).message}. Create an Ed25519 key with \`openssl genpkey -algorithm ed25519 -out ${file}\` or correct the path`,
    );
  }
}

/**
 * Reads the generated key, or writes a new one readable only by its owner
 * (0600). When another replica creates the file first, its key is used.
 */
function readOrGenerateKeyFile(file: string, logger: Logger | undefined): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw keyError(`the generated key ${file} cannot be read: ${(error as Error).message}`);
    }
  }

  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return readFileSync(file, 'utf8');
    }
    throw keyError(
      `the JWT signing key ${file} cannot be created: ${(error as Error).message}. Make its folder writable, or set shell.jwt.keyFile to an existing key`,
    );
  }
  chmodSync(file, 0o600);
  logger?.info({ file }, 'micro-frontend JWT signing key generated');
  return pem;
}

function keyError(message: string): ConfigError {
  return new ConfigError('The micro-frontend JWT signing key is invalid', [
    { path: 'shell.jwt.keyFile', message },
  ]);
}
