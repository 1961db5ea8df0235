/**
 * What reviewers approve, shown field by field: the reviewed fields a pending change alters,
 * with the approved value and the pending one (status.pendingChange, which the operator writes).
 * Only reviewers and admins see it: pending values are not approved content.
 */
import type { CatalogEntry } from "../catalog.js";
import type { Viewer } from "../visibility.js";
import { html, type Html } from "./html.js";

/** The diff table, or nothing when there is no pending change or the viewer may not see it. */
export function pendingChangeView(e: CatalogEntry, viewer: Viewer, compact = false): Html {
  const pending = e.pending;
  if (!viewer.privileged || !pending || pending.changes.length === 0) return html``;
  const value = (v: string | undefined) => (v === undefined ? html`<span class="meta">not set</span>` : html`<code>${v}</code>`);
  const rows = pending.changes.map((c) => html`<tr data-testid="diff-row"><td><code>${c.path}</code></td><td>${value(c.old)}</td><td>${value(c.new)}</td></tr>`);
  const serving = e.servedRevision ? `revision ${e.servedRevision} keeps serving until every area approves` : "nothing serves until every area approves";
  return html`<section data-testid="pending-change"${compact ? html` class="meta"` : html``}><${compact ? html`h4` : html`h2`}>Pending change · ${pending.changes.length} field${pending.changes.length === 1 ? "" : "s"}</${compact ? html`h4` : html`h2`}>
<p class="meta">Approve spec hash <code>${pending.specHash}</code>; ${serving}.</p>
<table data-testid="diff"><thead><tr><th>Field</th><th>Approved</th><th>Pending</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}
