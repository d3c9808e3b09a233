/** Types of server.mjs, for the project's TypeScript tests. */
export function startExampleMicroFrontend(options: {
  portalUrl: string;
  audience: string;
  port?: number;
}): Promise<{ url: string; close: () => Promise<void> }>;
