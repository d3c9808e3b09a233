/** Builds the browser bundles of `root`/web into `outdir` (default `root`/dist/web). */
export function buildWebBundles(
  root: string,
  options?: { outdir?: string },
): Promise<{ outdir: string; microFrontends: string[] }>;
