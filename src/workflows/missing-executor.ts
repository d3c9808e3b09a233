/** The config section that sets up the executor of a built-in request type, as advice. */
const EXECUTOR_SETTINGS: Readonly<Record<string, string>> = {
  deployment: 'workflows.deployment',
  'aws-credentials': 'workflows.awsCredentials',
};

/** Returns the advice that ends a missing-executor message, such as `: configure workflows.deployment`. */
export function missingExecutorHint(type: string): string {
  const setting = EXECUTOR_SETTINGS[type];
  return setting ? `: configure ${setting}` : '';
}

/** The stored result of an approved request whose type has no executor, so it will not run yet. */
export function missingExecutorResult(type: string): { message: string } {
  return {
    message: `No executor is registered for ${type} requests, so the request stays approved until the portal runs with one${missingExecutorHint(type)}`,
  };
}
