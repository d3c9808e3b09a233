import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import {
  chmodSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AuditConfig, DatabaseConfig } from '../config/index.js';
import { ConfigError } from '../errors/index.js';

/** Name of the key file generated when the config names no signing key. */
export const GENERATED_KEY_FILE_NAME = 'audit-signing-key.pem';

/** The key that signs checkpoints, with where it came from for messages. */
export interface AuditSigner {
  keyId: string;
  privateKey: KeyObject;
  /** The file or config field the key was read from. */
  source: string;
}

/** Keys of the audit trail: the signer, and the public keys that verification accepts by key id. */
export interface AuditKeys {
  signer?: AuditSigner | undefined;
  publicKeys: Map<string, KeyObject>;
}

export interface LoadAuditKeysOptions {
  /**
   * Whether to create the default key file when the config names no key and
   * the file does not exist yet. The server does; `audit verify` does not.
   */
  generate: boolean;
  /** Public key files that replace every configured key, for verification elsewhere. */
  publicKeyFiles?: readonly string[] | undefined;
  logger?: Logger | undefined;
  /** Folder of a generated key when the database is not an SQLite file; the working directory by default. */
  cwd?: string | undefined;
}

/**
 * Returns the path of the key generated when the config names none: beside the SQLite
 * file of the embedded default, otherwise under ./data of the working
 * directory.
 */
export function defaultSigningKeyFile(
  database: DatabaseConfig,
  cwd: string = process.cwd(),
): string {
  if (database.client === 'better-sqlite3' && database.connection !== ':memory:') {
    return path.join(path.dirname(database.connection.filename), GENERATED_KEY_FILE_NAME);
  }
  return path.resolve(cwd, 'data', GENERATED_KEY_FILE_NAME);
}

/**
 * Loads the signing key and the public keys of the config. The signer's
 * own public key is always accepted. Throws ConfigError naming the field and
 * the fix when a key cannot be read or is not an Ed25519 key.
 */
export function loadAuditKeys(
  config: AuditConfig,
  database: DatabaseConfig,
  options: LoadAuditKeysOptions,
): AuditKeys {
  const publicKeys = new Map<string, KeyObject>();
  if (options.publicKeyFiles && options.publicKeyFiles.length > 0) {
    for (const file of options.publicKeyFiles) {
      addPublicKey(publicKeys, readPublicKeyFile(file, '--public-key'), file, '--public-key');
    }
    return { publicKeys };
  }

  const signer = loadSigner(config, database, options);
  if (signer) {
    publicKeys.set(signer.keyId, createPublicKey(signer.privateKey));
  }
  config.signing.publicKeys.forEach((entry, index) => {
    const field = `audit.signing.publicKeys[${index}]`;
    if ('file' in entry) {
      addPublicKey(
        publicKeys,
        readPublicKeyFile(entry.file, `${field}.file`),
        entry.file,
        `${field}.file`,
      );
    } else {
      addPublicKey(publicKeys, entry.pem, 'PEM text', `${field}.pem`);
    }
  });
  return { signer, publicKeys };
}

function loadSigner(
  config: AuditConfig,
  database: DatabaseConfig,
  options: LoadAuditKeysOptions,
): AuditSigner | undefined {
  const { privateKey, privateKeyFile } = config.signing;
  if (privateKey !== undefined) {
    return toSigner(privateKey, 'audit.signing.privateKey', 'audit.signing.privateKey');
  }
  if (privateKeyFile !== undefined) {
    return toSigner(
      readKeyFile(privateKeyFile, 'audit.signing.privateKeyFile'),
      privateKeyFile,
      'audit.signing.privateKeyFile',
    );
  }

  const file = defaultSigningKeyFile(database, options.cwd);
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw keyError(
        'audit.signing.privateKeyFile',
        `the generated key ${file} cannot be read: ${(error as Error).message}`,
      );
    }
    if (!options.generate) {
      return undefined;
    }
    pem = generateKeyFile(file, options.logger);
  }
  warnIfReadableByOthers(file, options.logger);
  return toSigner(pem, file, 'audit.signing.privateKeyFile');
}

/**
 * Writes a new Ed25519 private key readable only by its owner (0600). The
 * key is written to a temporary file first and then linked to its name,
 * which fails when the name exists. So a process that starts at the same
 * time never reads a half-written key, and both use the key linked first.
 */
function generateKeyFile(file: string, logger: Logger | undefined): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(temporary, pem, { mode: 0o600, flag: 'wx' });
    // The umask may have removed bits, never added them, but set the mode exactly anyway.
    chmodSync(temporary, 0o600);
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return readFileSync(file, 'utf8');
    }
    throw keyError(
      'audit.signing.privateKeyFile',
      `the audit signing key ${file} cannot be created: ${(error as Error).message}. Make its folder writable, or set audit.signing.privateKeyFile to an existing key`,
    );
  } finally {
    rmSync(temporary, { force: true });
  }
  logger?.info({ file }, 'audit signing key generated');
  return pem;
}

function warnIfReadableByOthers(file: string, logger: Logger | undefined): void {
  try {
    if ((statSync(file).mode & 0o077) !== 0) {
      logger?.warn({ file }, 'audit signing key is readable by other users; run chmod 600 on it');
    }
  } catch {
    // The file was just read, so a failure here only means no warning.
  }
}

function readKeyFile(file: string, field: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw keyError(
      field,
      `${file} cannot be read: ${(error as Error).message}. Create an Ed25519 key with \`openssl genpkey -algorithm ed25519 -out ${file}\` or correct the path`,
    );
  }
}

function readPublicKeyFile(file: string, field: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw keyError(
      field,
      `${file} cannot be read: ${(error as Error).message}. Write the public key of the signing key with \`backstage-luigi audit public-key > ${file}\` where the portal's config is, or with \`openssl pkey -in PRIVATE-KEY.pem -pubout -out ${file}\`, or correct the path`,
    );
  }
}

function toSigner(pem: string, source: string, field: string): AuditSigner {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw keyError(
      field,
      `${source === field ? 'the value' : source} is not a PEM private key (${(error as Error).message}): use an Ed25519 key in PKCS #8 PEM form, as \`openssl genpkey -algorithm ed25519\` writes it`,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw keyError(
      field,
      `${source === field ? 'the value' : source} is a ${privateKey.asymmetricKeyType ?? 'non-asymmetric'} key, not Ed25519: create one with \`openssl genpkey -algorithm ed25519\``,
    );
  }
  return { keyId: keyIdOf(createPublicKey(privateKey)), privateKey, source };
}

function addPublicKey(
  keys: Map<string, KeyObject>,
  pem: string,
  source: string,
  field: string,
): void {
  let publicKey: KeyObject;
  try {
    // A private key is accepted too; its public half is used.
    publicKey = createPublicKey(pem);
  } catch (error) {
    throw keyError(
      field,
      `${source} is not a PEM public key (${(error as Error).message}): use the output of \`backstage-luigi audit public-key\` or \`openssl pkey -pubout\``,
    );
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw keyError(
      field,
      `${source} is a ${publicKey.asymmetricKeyType ?? 'non-asymmetric'} key, not Ed25519`,
    );
  }
  keys.set(keyIdOf(publicKey), publicKey);
}

function keyError(field: string, message: string): ConfigError {
  return new ConfigError('The audit signing keys are invalid', [{ path: field, message }]);
}

/** Identifies a key: the first 16 hex digits of the SHA-256 of its public key in SPKI DER form. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** Signs a canonical payload with Ed25519; returns the signature in base64. */
export function signPayload(signer: AuditSigner, payload: string): string {
  return sign(null, Buffer.from(payload, 'utf8'), signer.privateKey).toString('base64');
}

/** Checks a base64 Ed25519 signature over a payload. */
export function verifyPayload(publicKey: KeyObject, payload: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(payload, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** Writes the public key of a signer as SPKI PEM, the form audit.signing.publicKeys reads. */
export function publicKeyPem(signer: AuditSigner): string {
  return createPublicKey(signer.privateKey).export({ format: 'pem', type: 'spki' }).toString();
}
