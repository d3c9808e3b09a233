/** Lets a user search and read the audit trail through the events API and the Audit micro frontend. */
export const AUDIT_EVENT_READ = 'audit.event.read';

/**
 * The audit capability's permissions, in the registry's definition shape.
 * The audit capability imports nothing from permissions, so the composition
 * root registers them.
 */
export const auditPermissions: Array<{ name: string; action: 'read'; description: string }> = [
  {
    name: AUDIT_EVENT_READ,
    action: 'read',
    description:
      'Search and read the audit trail: who did what, when, from where, with what outcome',
  },
];
