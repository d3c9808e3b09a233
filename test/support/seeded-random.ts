/**
 * A seeded pseudo-random generator for property tests, so a failing case
 * can be replayed from its seed. It is xorshift32 over a seed mixed with a
 * multiplicative hash: fast and reproducible, not for anything secret.
 */
export interface SeededRandom {
  /** A number in [0, 1). */
  next(): number;
  /** A whole number in [0, count). */
  int(count: number): number;
  /** One item of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** True with the given probability. */
  chance(probability: number): boolean;
  /** Between 0 and `max` distinct items of the list, in random order. */
  sample<T>(items: readonly T[], max: number): T[];
  /** All items of the list in random order. */
  shuffle<T>(items: readonly T[]): T[];
}

export function createSeededRandom(seed: number): SeededRandom {
  // xorshift32 stays at 0 once its state is 0, so a seed that mixes to 0 starts elsewhere.
  let state = Math.imul(seed >>> 0 || 1, 0x9e3779b1) >>> 0 || 0x6d2b79f5;

  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  const int = (count: number) => Math.floor(next() * count);
  const pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) {
      throw new Error('pick() needs at least one item');
    }
    return items[int(items.length)] as T;
  };
  const chance = (probability: number) => next() < probability;
  const shuffle = <T>(items: readonly T[]): T[] => {
    const result = [...items];
    for (let index = result.length - 1; index > 0; index -= 1) {
      const other = int(index + 1);
      [result[index], result[other]] = [result[other] as T, result[index] as T];
    }
    return result;
  };
  const sample = <T>(items: readonly T[], max: number): T[] =>
    shuffle(items).slice(0, int(Math.min(max, items.length) + 1));
  return { next, int, pick, chance, sample, shuffle };
}

/** Reads a whole-number seed from an environment variable, or returns the fallback when it is unset. */
export function seedFromEnvironment(variable: string, fallback: number): number {
  const text = process.env[variable];
  if (text === undefined || text.trim() === '') {
    return fallback;
  }
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`${variable}='${text}' is not a seed: give a whole number such as 12345`);
  }
  return seed;
}
