/**
 * The tools the code implements, against the tools the policy declares. The policy is what
 * reviewers approved, so it decides who may call what; the code can only make a tool stricter
 * (sensitive in either means sensitive, read-only needs both). Tool descriptors for tools/list
 * are computed once, not on every list.
 */
import type { Tool } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ToolSpec } from "../../crds/index.js";
import type { ServerPolicy } from "../../policy/index.js";
import type { DomainTool } from "./tool.js";

export interface CatalogEntry {
  tool: DomainTool;
  input: z.ZodObject;
  descriptor: Tool;
}

export interface EffectivePolicy {
  policy: ServerPolicy;
  /** Declared tools, by name, with the code's stricter flags applied. */
  tools: Map<string, ToolSpec>;
  /** Declared but not implemented, and implemented but not declared: both worth a warning. */
  missing: string[];
  undeclared: string[];
}

export class ToolCatalog {
  readonly entries = new Map<string, CatalogEntry>();

  constructor(tools: readonly DomainTool[]) {
    for (const tool of tools) {
      if (this.entries.has(tool.name)) throw new Error(`tool ${tool.name} is defined twice`);
      const input = tool.input ?? z.object({});
      const { $schema: _ignored, ...inputSchema } = z.toJSONSchema(input, { io: "input" }) as Record<string, unknown>;
      const descriptor: Tool = {
        name: tool.name,
        description: tool.description,
        inputSchema: { ...inputSchema, type: "object" },
        annotations: { readOnlyHint: tool.readOnly === true, ...(tool.title ? { title: tool.title } : {}) },
        ...(tool.title ? { title: tool.title } : {}),
      };
      this.entries.set(tool.name, { tool, input, descriptor });
    }
  }

  /** The descriptors of every implemented tool, for the operator's verifier. */
  allDescriptors(): Tool[] {
    return [...this.entries.values()].map((e) => e.descriptor);
  }

  apply(policy: ServerPolicy): EffectivePolicy {
    const tools = new Map<string, ToolSpec>();
    const declared: ToolSpec[] = [];
    const missing: string[] = [];
    for (const spec of policy.tools) {
      const entry = this.entries.get(spec.name);
      if (!entry) {
        missing.push(spec.name);
        continue;
      }
      const effective: ToolSpec = {
        ...spec,
        sensitive: spec.sensitive || entry.tool.sensitive === true,
        readOnly: spec.readOnly && entry.tool.readOnly !== false,
        allowServiceAccounts: spec.allowServiceAccounts && !(spec.sensitive || entry.tool.sensitive === true),
      };
      tools.set(spec.name, effective);
      declared.push(effective);
    }
    const undeclared = [...this.entries.keys()].filter((name) => !tools.has(name));
    return { policy: { ...policy, tools: declared }, tools, missing, undeclared };
  }
}
