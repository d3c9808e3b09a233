import type { z } from 'zod';
import { InputError } from '../errors/index.js';
import type { PermissionDefinition } from './types.js';

/**
 * A condition rule of one resource type, as in Backstage's permission-node:
 * an in-memory check for one resource and a translation into the owning
 * capability's query language for lists. Both must agree.
 */
export interface PermissionRule<TResource, TQuery, TParams> {
  name: string;
  resourceType: string;
  description: string;
  paramsSchema: z.ZodType<TParams>;
  apply(resource: TResource, params: TParams): boolean;
  toQuery(params: TParams): TQuery;
}

// biome-ignore lint/suspicious/noExplicitAny: rules of every resource type share one registry.
export type AnyPermissionRule = PermissionRule<any, any, any>;

/**
 * A resource type and the capability that owns it, as Backstage's permission
 * integration router describes one: the plugin id sent with conditional
 * decisions, and a loader that finds resources by reference so that
 * conditions can be decided for one resource.
 */
export interface PermissionResourceType<TResource = unknown> {
  /** Resource type such as `catalog-entity`. */
  resourceType: string;
  /** Backstage plugin id of the owner, such as `catalog`. */
  pluginId: string;
  /**
   * Loads resources by reference, one result per reference in the order
   * given: undefined where the reference is malformed or names no resource.
   */
  getResources(refs: readonly string[]): Promise<Array<TResource | undefined>>;
}

/** Permissions and rules registered by the capabilities. */
export class PermissionRegistry {
  private readonly permissions = new Map<string, PermissionDefinition>();
  private readonly rules = new Map<string, AnyPermissionRule>();
  private readonly resourceTypes = new Map<string, PermissionResourceType>();

  /** Registers permissions; a name registered twice with another definition is an error. */
  registerPermissions(...definitions: PermissionDefinition[]): void {
    for (const definition of definitions) {
      const existing = this.permissions.get(definition.name);
      if (existing && JSON.stringify(existing) !== JSON.stringify(definition)) {
        throw new InputError(
          `Permission ${definition.name} is already registered with another definition`,
        );
      }
      this.permissions.set(definition.name, definition);
    }
  }

  /** Registers the condition rules of a resource type. */
  registerRules(...rules: AnyPermissionRule[]): void {
    for (const rule of rules) {
      const key = ruleKey(rule.resourceType, rule.name);
      if (this.rules.has(key)) {
        throw new InputError(`Rule ${rule.name} is already registered for ${rule.resourceType}`);
      }
      this.rules.set(key, rule);
    }
  }

  /** Registers the owner and loader of a resource type; a type registered twice is an error. */
  registerResourceType(definition: PermissionResourceType): void {
    if (this.resourceTypes.has(definition.resourceType)) {
      throw new InputError(`Resource type ${definition.resourceType} is already registered`);
    }
    this.resourceTypes.set(definition.resourceType, definition);
  }

  getResourceType(resourceType: string): PermissionResourceType | undefined {
    return this.resourceTypes.get(resourceType);
  }

  getPermission(name: string): PermissionDefinition | undefined {
    return this.permissions.get(name);
  }

  listPermissions(): PermissionDefinition[] {
    return [...this.permissions.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  getRule(resourceType: string, name: string): AnyPermissionRule | undefined {
    return this.rules.get(ruleKey(resourceType, name));
  }

  listRules(resourceType?: string): AnyPermissionRule[] {
    return [...this.rules.values()].filter(
      (rule) => resourceType === undefined || rule.resourceType === resourceType,
    );
  }
}

function ruleKey(resourceType: string, name: string): string {
  return `${resourceType}\u0000${name}`;
}
