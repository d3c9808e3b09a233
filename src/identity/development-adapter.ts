import type { Adapter, AdapterPayload } from 'oidc-provider';

interface StoredItem {
  payload: AdapterPayload;
  /** Epoch milliseconds; undefined when the model has no expiry. */
  expiresAt: number | undefined;
}

/** Models whose items belong to a grant and are revoked with it. */
const GRANT_BOUND_MODELS = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

/** Expired items are swept at most this often, when something new is stored. */
const SWEEP_INTERVAL_MS = 60_000;
/** Items kept at most; past it the oldest go first, so anonymous sign-in attempts cannot grow memory without bound. */
const MAX_ITEMS = 50_000;

/**
 * Creates storage for one development provider: plain maps in this process,
 * lost at restart, never shared with another provider instance.
 */
export function createMemoryAdapterFactory(): (model: string) => Adapter {
  const items = new Map<string, StoredItem>();
  const grants = new Map<string, Set<string>>();
  const sessionsByUid = new Map<string, string>();
  const userCodes = new Map<string, string>();
  let lastSweep = Date.now();

  const sweep = (): void => {
    const now = Date.now();
    if (now - lastSweep < SWEEP_INTERVAL_MS && items.size < MAX_ITEMS) {
      return;
    }
    lastSweep = now;
    for (const [key, item] of items) {
      if (item.expiresAt !== undefined && item.expiresAt <= now) {
        items.delete(key);
      }
    }
    // Map iteration follows insertion order, so the first keys are the oldest.
    // Trimming a tenth below the limit keeps sweeps rare under a flood.
    for (const key of items.keys()) {
      if (items.size < MAX_ITEMS * 0.9) {
        break;
      }
      items.delete(key);
    }
    for (const [uid, id] of sessionsByUid) {
      if (!items.has(`Session:${id}`)) sessionsByUid.delete(uid);
    }
    for (const [code, id] of userCodes) {
      if (!items.has(`DeviceCode:${id}`)) userCodes.delete(code);
    }
    for (const [grantId, keys] of grants) {
      for (const key of keys) {
        if (!items.has(key)) keys.delete(key);
      }
      if (keys.size === 0) grants.delete(grantId);
    }
  };

  const read = (key: string): AdapterPayload | undefined => {
    const item = items.get(key);
    if (!item) {
      return undefined;
    }
    if (item.expiresAt !== undefined && item.expiresAt <= Date.now()) {
      items.delete(key);
      return undefined;
    }
    return item.payload;
  };

  return (model: string): Adapter => {
    const keyOf = (id: string) => `${model}:${id}`;

    return {
      async upsert(id, payload, expiresIn) {
        sweep();
        const key = keyOf(id);
        if (model === 'Session' && typeof payload.uid === 'string') {
          sessionsByUid.set(payload.uid, id);
        }
        if (model === 'DeviceCode' && typeof payload.userCode === 'string') {
          userCodes.set(payload.userCode, id);
        }
        if (GRANT_BOUND_MODELS.has(model) && typeof payload.grantId === 'string') {
          const keys = grants.get(payload.grantId) ?? new Set<string>();
          keys.add(key);
          grants.set(payload.grantId, keys);
        }
        items.set(key, {
          payload: { ...payload },
          expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
        });
      },

      async find(id) {
        return read(keyOf(id));
      },

      async findByUid(uid) {
        const id = sessionsByUid.get(uid);
        return id === undefined ? undefined : read(keyOf(id));
      },

      async findByUserCode(userCode) {
        const id = userCodes.get(userCode);
        return id === undefined ? undefined : read(keyOf(id));
      },

      async consume(id) {
        const item = items.get(keyOf(id));
        if (item) {
          item.payload.consumed = Math.floor(Date.now() / 1000);
        }
      },

      async destroy(id) {
        items.delete(keyOf(id));
      },

      async revokeByGrantId(grantId) {
        for (const key of grants.get(grantId) ?? []) {
          items.delete(key);
        }
        grants.delete(grantId);
      },
    };
  };
}
