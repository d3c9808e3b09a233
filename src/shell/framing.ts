import type { ShellNodeConfig } from '../config/index.js';
import type { LuigiNode } from './navigation.js';

/**
 * Sandbox tokens of every view's iframe. `allow-scripts` runs the micro
 * frontend. `allow-same-origin` keeps the view at its own origin. Without it
 * the document's origin is opaque (`null`), so Luigi core could not talk to
 * the view, because it accepts messages only from the origin of the node's
 * `viewUrl` and posts only to that origin. The built-in views also need it
 * to send the session cookie with their API calls. For a view on the
 * portal's own origin the pair lets its scripts lift the sandbox, so there
 * the sandbox limits well-behaved code only, and the CSP and the server's
 * permission checks are what bound it.
 */
export const MINIMAL_SANDBOX: readonly string[] = ['allow-scripts', 'allow-same-origin'];

/** A Luigi node with the settings that the shell script applies to its iframe. */
export interface FramedLuigiNode extends LuigiNode {
  /** The sandbox tokens the node declares on top of MINIMAL_SANDBOX. */
  sandbox?: string[];
  /**
   * The node's route as configured, such as `tools/deploy/:name`; the shell
   * sends it with a token request for the node's micro frontend.
   */
  nodePath?: string;
  children?: FramedLuigiNode[];
}

/**
 * Adds `nodePath` and the declared `sandbox` tokens to the user's navigation.
 * Nodes are matched to their config by `pathSegment`, which is unique among
 * siblings. A node without a config match, such as one added from the
 * catalog, is returned unchanged and gets MINIMAL_SANDBOX in the browser.
 */
export function addFrameSettings(
  nodes: readonly LuigiNode[],
  configNodes: readonly ShellNodeConfig[],
  parentPath = '',
): FramedLuigiNode[] {
  return nodes.map((node) => {
    const config = configNodes.find((candidate) => candidate.pathSegment === node.pathSegment);
    if (!config) {
      return node;
    }

    const nodePath = parentPath ? `${parentPath}/${node.pathSegment}` : node.pathSegment;
    const framed: FramedLuigiNode = { ...node, nodePath };
    if (config.sandbox && config.sandbox.length > 0) {
      framed.sandbox = [...new Set(config.sandbox)];
    }
    if (node.children) {
      framed.children = addFrameSettings(node.children, config.children ?? [], nodePath);
    }
    return framed;
  });
}
