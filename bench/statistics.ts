/** The value below which `fraction` of the sorted samples fall (nearest rank). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const rank = Math.ceil(fraction * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

/** Runs `operation` `warmup` times unmeasured, then `samples` times one after another, in milliseconds. */
export async function measureLatency(
  operation: () => Promise<void>,
  options: { warmup: number; samples: number },
): Promise<LatencySummary> {
  for (let index = 0; index < options.warmup; index++) {
    await operation();
  }
  const durations: number[] = [];
  for (let index = 0; index < options.samples; index++) {
    const started = performance.now();
    await operation();
    durations.push(performance.now() - started);
  }
  durations.sort((a, b) => a - b);
  return {
    samples: durations.length,
    p50: percentile(durations, 0.5),
    p99: percentile(durations, 0.99),
    max: durations[durations.length - 1]!,
  };
}
