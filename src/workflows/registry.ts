import { z } from 'zod';
import type { RequestExecutor, RequestTypeDefinition } from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: types of every parameter shape share one registry.
export type AnyRequestType = RequestTypeDefinition<any>;

/** The request types and their executors, registered by the capabilities before the engine starts. */
export class WorkflowRegistry {
  private readonly types = new Map<string, AnyRequestType>();
  private readonly executors = new Map<string, RequestExecutor>();

  /** Registers request types; a name registered twice is an error. */
  registerTypes(...types: AnyRequestType[]): void {
    for (const type of types) {
      if (this.types.has(type.name)) {
        throw new Error(`Request type ${type.name} is already registered`);
      }
      this.types.set(type.name, type);
    }
  }

  /** Registers executors; a type without a definition, or with an executor already, is an error. */
  registerExecutors(...executors: RequestExecutor[]): void {
    for (const executor of executors) {
      if (!this.types.has(executor.type)) {
        throw new Error(`Executor for ${executor.type} names no registered request type`);
      }
      if (this.executors.has(executor.type)) {
        throw new Error(`Request type ${executor.type} already has an executor`);
      }
      this.executors.set(executor.type, executor);
    }
  }

  getType(name: string): AnyRequestType | undefined {
    return this.types.get(name);
  }

  listTypes(): AnyRequestType[] {
    return [...this.types.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  typeNames(): string[] {
    return this.listTypes().map((type) => type.name);
  }

  getExecutor(type: string): RequestExecutor | undefined {
    return this.executors.get(type);
  }

  /** Returns the types whose executor runs in the background as soon as a request is approved. */
  automaticTypes(): string[] {
    return [...this.executors.values()]
      .filter((executor) => executor.trigger === 'automatic')
      .map((executor) => executor.type);
  }
}

/**
 * Returns the JSON Schema of a type's parameters, as a form builder reads
 * it. The `choices` of its executor become the `enum` of those properties.
 */
export function parametersJsonSchema(
  type: AnyRequestType,
  choices: Record<string, readonly string[]> = {},
): Record<string, unknown> {
  const schema = z.toJSONSchema(type.parameters, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Record<string, unknown>>;
  } & Record<string, unknown>;
  for (const [name, values] of Object.entries(choices)) {
    const property = schema.properties?.[name];
    if (property && values.length > 0) {
      property.enum = [...values];
    }
  }
  return schema;
}
