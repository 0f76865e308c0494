/**
 * An agent's `tools` (Managed Agents) as Claude Code options. The agent toolset's eight tools
 * are Claude Code's own under other names; each tool's `permission_policy` becomes:
 * - `always_allow`: an allow rule (`allowedTools`), so Claude Code runs it without asking;
 * - `always_ask`: no rule: Claude Code asks through the session's approvals (permission mode
 *   `default`), which is every call that changes something; read-only calls (Read, Glob, Grep,
 *   read-only shell commands) Claude Code runs without asking (docs/managed-agents.md);
 * - `enabled: false`: a deny rule (`disallowedTools`).
 * What has no meaning here (custom tools, MCP toolsets, the `auto` policy) is refused.
 */
import { managedFeatureRefused } from '../error-situations.js';

export const TOOLSET_TYPE = 'agent_toolset_20260401';

/** The agent toolset's tool names, and Claude Code's name of each. */
export const TOOLSET_TOOLS: Record<string, string> = {
  bash: 'Bash',
  edit: 'Edit',
  read: 'Read',
  write: 'Write',
  glob: 'Glob',
  grep: 'Grep',
  web_fetch: 'WebFetch',
  web_search: 'WebSearch',
};

/** Claude Code's tool name → the toolset's (for tool-use events); others are kept as they are. */
export function managedToolName(claudeName: string): string {
  for (const [managed, claude] of Object.entries(TOOLSET_TOOLS)) if (claude === claudeName) return managed;
  return claudeName;
}

type Policy = { type: 'always_allow' } | { type: 'always_ask' };

export interface ToolConfig {
  name: string;
  type: string;
  enabled: boolean;
  permission_policy: Policy;
}

export interface AgentToolset {
  type: typeof TOOLSET_TYPE;
  default_config: { enabled: boolean; permission_policy: Policy };
  configs: ToolConfig[];
}

interface ToolsetParams {
  type: string;
  configs?: Array<{ name: string; enabled?: boolean | null; permission_policy?: { type: string } | null }>;
  default_config?: { enabled?: boolean | null; permission_policy?: { type: string } | null } | null;
}

function policyOf(given: { type: string } | null | undefined, fallback: Policy, where: string): Policy {
  if (!given) return fallback;
  if (given.type === 'always_allow' || given.type === 'always_ask') return { type: given.type };
  throw managedFeatureRefused(
    `permission_policy "${given.type}" (${where})`,
    'Claude Code decides with allow rules or by asking; use always_allow or always_ask.',
  );
}

/** The agent's tools as this server keeps and shows them: one toolset, every field filled in. */
export function normalizeTools(tools: readonly ToolsetParams[] | null | undefined): AgentToolset[] {
  const out: AgentToolset[] = [];
  for (const tool of tools ?? []) {
    if (tool.type === 'custom') {
      throw managedFeatureRefused('custom tools', 'Claude Code runs only its own tools here.');
    }
    if (tool.type === 'mcp_toolset') {
      throw managedFeatureRefused('mcp_toolset', 'this server runs no MCP servers for a session.');
    }
    if (tool.type !== TOOLSET_TYPE) {
      throw managedFeatureRefused(`tool type "${tool.type}"`, `only ${TOOLSET_TYPE} is known here.`);
    }
    if (out.length > 0) throw managedFeatureRefused('a second agent toolset', 'an agent has one.');
    const defaults = {
      enabled: tool.default_config?.enabled ?? true,
      permission_policy: policyOf(
        tool.default_config?.permission_policy,
        { type: 'always_allow' },
        'default_config',
      ),
    };
    const configs = (tool.configs ?? []).map((c): ToolConfig => {
      if (!(c.name in TOOLSET_TOOLS)) {
        throw managedFeatureRefused(
          `tool "${c.name}"`,
          `the toolset's tools are ${Object.keys(TOOLSET_TOOLS).join(', ')}.`,
        );
      }
      return {
        name: c.name,
        type: c.name,
        enabled: c.enabled ?? defaults.enabled,
        permission_policy: policyOf(c.permission_policy, defaults.permission_policy, c.name),
      };
    });
    out.push({ type: TOOLSET_TYPE, default_config: defaults, configs });
  }
  return out;
}

/** What a session of an agent with these tools runs with (Claude Code's names). */
export function claudeToolRules(
  tools: readonly AgentToolset[],
  serverDisallowed: readonly string[],
): { allowedTools: string[]; disallowedTools: string[] } {
  const allowedTools: string[] = [];
  const disallowedTools: string[] = [];
  const toolset = tools[0];
  for (const [name, claude] of Object.entries(TOOLSET_TOOLS)) {
    const config = toolset?.configs.find((c) => c.name === name);
    const enabled = toolset ? (config?.enabled ?? toolset.default_config.enabled) : false;
    const policy = config?.permission_policy ?? toolset?.default_config.permission_policy;
    if (!enabled) disallowedTools.push(claude);
    // A tool the server disables for every session stays disabled: no allow rule for it.
    else if (policy?.type === 'always_allow' && !serverDisallowed.includes(claude)) allowedTools.push(claude);
  }
  return { allowedTools, disallowedTools };
}
