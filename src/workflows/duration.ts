import { z } from 'zod';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

const DURATION = /^(\d+)(s|m|h|d)$/;

/** Maximum duration in a rules file, in seconds: 365 days. */
export const MAX_DURATION_SECONDS = 365 * 86_400;

const RANGE_MESSAGE = `must be from 1 second to 365 days (${MAX_DURATION_SECONDS} seconds), such as 90m or 7d`;

/**
 * A duration in a rules file: a number of seconds or a text such as `90m`,
 * `12h` or `7d` (units s, m, h, d). Parses to seconds, from 1 second to 365
 * days, because zero would expire or reject every request and a larger value
 * overflows the dates it is added to.
 */
export const durationSchema = z.union([
  z.number().int().min(1, RANGE_MESSAGE).max(MAX_DURATION_SECONDS, RANGE_MESSAGE),
  z
    .string()
    .trim()
    .regex(DURATION, 'must be a whole number with a unit s, m, h or d, such as 90m or 7d')
    .transform((value) => parseDuration(value))
    .refine((seconds) => seconds >= 1 && seconds <= MAX_DURATION_SECONDS, RANGE_MESSAGE),
]);

/** Converts `90m`, `12h` or `7d` to seconds; throws for any other text. */
export function parseDuration(value: string): number {
  const match = DURATION.exec(value.trim());
  if (!match) {
    throw new Error(`Duration '${value}' is invalid: use a whole number with s, m, h or d`);
  }
  return Number(match[1]) * UNIT_SECONDS[match[2]!]!;
}

/** Writes seconds as the largest whole unit: 5400 becomes `90m`, 86400 becomes `1d`. */
export function formatDuration(seconds: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    const size = UNIT_SECONDS[unit]!;
    if (seconds % size === 0) {
      return `${seconds / size}${unit}`;
    }
  }
  return `${seconds}s`;
}
