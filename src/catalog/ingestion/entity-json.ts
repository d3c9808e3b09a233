import { randomBytes } from 'node:crypto';

/** The JSON texts of an entity as stored. */
export interface EntityJson {
  /** SHA-1 of `JSON.stringify(content)`, as hex. */
  etag: string;
  /**
   * The stored body `{ ...content, metadata: { ...content.metadata, uid, etag } }`
   * as JSON is `${bodyHead}${JSON.stringify(uid)}${bodyTail}`: the uid is
   * chosen later, once the database shows whether the entity has one.
   */
  bodyHead: string;
  bodyTail: string;
}

/**
 * Stand-ins for the uid and the etag while the body is serialized. They are
 * random per process, so no entity contains them; that is checked anyway.
 */
const UID_STAND_IN_VALUE = `uid-${randomBytes(16).toString('hex')}`;
const ETAG_STAND_IN_VALUE = `etag-${randomBytes(16).toString('hex')}`;
const UID_STAND_IN = JSON.stringify(UID_STAND_IN_VALUE);
const ETAG_STAND_IN = JSON.stringify(ETAG_STAND_IN_VALUE);

/**
 * Serializes an entity's body around its uid and computes its etag with one
 * `JSON.stringify`: the body is serialized with stand-ins, and the content's
 * JSON is the body's without the uid and etag fields that were appended to
 * metadata. When metadata already has a uid or an etag field, whose place the
 * body keeps, the content is serialized on its own.
 */
export function serializeEntity(
  content: { metadata: Record<string, unknown> } & Record<string, unknown>,
  etagOf: (contentJson: string) => string,
): EntityJson {
  const metadata = content.metadata;
  const body = JSON.stringify({
    ...content,
    metadata: {
      ...metadata,
      uid: UID_STAND_IN_VALUE,
      etag: ETAG_STAND_IN_VALUE,
    },
  });

  const uidAt = body.indexOf(UID_STAND_IN);
  const etagAt = body.indexOf(ETAG_STAND_IN);
  const appended = `,"uid":${UID_STAND_IN},"etag":${ETAG_STAND_IN}`;
  const appendedAt = uidAt - ',"uid":'.length;
  const plain =
    !Object.hasOwn(metadata, 'uid') &&
    !Object.hasOwn(metadata, 'etag') &&
    body.lastIndexOf(UID_STAND_IN) === uidAt &&
    body.lastIndexOf(ETAG_STAND_IN) === etagAt &&
    body.startsWith(appended, appendedAt);

  const contentJson = plain
    ? body.slice(0, appendedAt) + body.slice(appendedAt + appended.length)
    : JSON.stringify(content);
  const etag = etagOf(contentJson);
  if (!plain) {
    return splitAroundUid(content, etag);
  }
  return {
    etag,
    bodyHead: body.slice(0, uidAt),
    bodyTail: `,"etag":${JSON.stringify(etag)}${body.slice(etagAt + ETAG_STAND_IN.length)}`,
  };
}

/** Splits the body's JSON around the uid by serializing it piece by piece, for the rare metadata with a uid or etag field. */
function splitAroundUid(
  content: { metadata: Record<string, unknown> } & Record<string, unknown>,
  etag: string,
): EntityJson {
  const outer = { before: [] as string[], after: [] as string[] };
  let seenMetadata = false;
  for (const key of Object.keys(content)) {
    if (key === 'metadata') {
      seenMetadata = true;
      continue;
    }
    pushField(seenMetadata ? outer.after : outer.before, key, content[key]);
  }

  // Spreading keeps the place of a uid or etag that metadata already has and
  // appends the others, uid first.
  const body: Record<string, unknown> = { ...content.metadata, uid: undefined, etag };
  const inner = { before: [] as string[], after: [] as string[] };
  let seenUid = false;
  for (const key of Object.keys(body)) {
    if (key === 'uid') {
      seenUid = true;
      continue;
    }
    pushField(seenUid ? inner.after : inner.before, key, body[key]);
  }

  const outerBefore = outer.before.map((field) => `${field},`).join('');
  const outerAfter = outer.after.map((field) => `,${field}`).join('');
  const innerBefore = inner.before.map((field) => `${field},`).join('');
  const innerAfter = inner.after.map((field) => `,${field}`).join('');
  return {
    etag,
    bodyHead: `{${outerBefore}"metadata":{${innerBefore}"uid":`,
    bodyTail: `${innerAfter}}${outerAfter}}`,
  };
}

/** Adds `"key":value` as `JSON.stringify` writes it, unless the value has no JSON form. */
function pushField(fields: string[], key: string, value: unknown): void {
  const json = JSON.stringify(value);
  if (json !== undefined) {
    fields.push(`${JSON.stringify(key)}:${json}`);
  }
}
