/**
 * The Impact page (headline figures for the last 30 days, a trend by week or month, tables by
 * server and tool) and, for each server page, its own figures with each tool's declared
 * estimate beside people's feedback, and the feedback widget.
 */
import type { CatalogEntry } from "../catalog.js";
import type { ToolEstimate } from "../usage/feedback-route.js";
import type { Estimate, Figures, ImpactGroup, ImpactReport } from "../usage/store.js";
import type { Viewer } from "../visibility.js";
import { html, page, type Html } from "./html.js";

/** This page's own styles, beside the shared stylesheet. */
const IMPACT_STYLE: Html = {
  html: `<style>.figure{font-size:2rem;font-weight:700}.bar-cell{white-space:nowrap}.bar{display:inline-block;height:.8rem;background:var(--accent);border-radius:3px;vertical-align:middle;max-width:70%}
form.feedback{display:flex;flex-wrap:wrap;gap:.8rem;align-items:center;margin-top:1rem}form.feedback label{display:flex;gap:.4rem;align-items:center;font-size:.9rem}
form.feedback input[type=number]{width:6rem}form.feedback .wide{flex:1 1 100%}form.feedback .wide input{flex:1;padding:.4rem}</style>`,
};

const n = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: 1 });

function headline(f: Figures): Html {
  return html`<div class="grid impact-headline">
<div class="card"><div class="meta">Calls</div><div class="figure" data-testid="calls">${n(f.calls)}</div><div class="meta">${n(f.okCalls)} succeeded</div></div>
<div class="card"><div class="meta">Active people</div><div class="figure" data-testid="people">${n(f.people)}</div></div>
<div class="card"><div class="meta">Hours saved</div><div class="figure" data-testid="hours">${n(f.hoursSaved)}</div><div class="meta">${n(f.minutesSaved)} minutes</div></div>
</div>`;
}

function trendChart(groups: readonly ImpactGroup[], by: "week" | "month"): Html {
  if (groups.length === 0) return html`<div class="empty">No calls in this period.</div>`;
  const max = Math.max(...groups.map((g) => g.hoursSaved), 0.01);
  const rows = groups.map(
    (g) => html`<tr data-testid="trend-row"><td>${by === "week" ? `week of ${g.key}` : g.key}</td><td>${n(g.calls)}</td><td>${n(g.people)}</td>
<td class="bar-cell"><span class="bar" style="width:${Math.max(1, Math.round((g.hoursSaved / max) * 100))}%"></span> ${n(g.hoursSaved)}</td></tr>`,
  );
  return html`<table data-testid="trend"><thead><tr><th>${by === "week" ? "Week" : "Month"}</th><th>Calls</th><th>People</th><th>Hours saved</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function groupTable(testid: string, first: string, groups: readonly ImpactGroup[], label: (g: ImpactGroup) => Html): Html {
  if (groups.length === 0) return html`<div class="empty">No calls in this period.</div>`;
  const rows = [...groups]
    .sort((a, b) => b.minutesSaved - a.minutesSaved || b.calls - a.calls)
    .map((g) => html`<tr><td>${label(g)}</td><td>${n(g.calls)}</td><td>${n(g.okCalls)}</td><td>${n(g.people)}</td><td>${n(g.hoursSaved)}</td></tr>`);
  return html`<table data-testid="${testid}"><thead><tr><th>${first}</th><th>Calls</th><th>Succeeded</th><th>People</th><th>Hours saved</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export interface ImpactPageData {
  from: string;
  to: string;
  estimate: Estimate;
  trendBy: "week" | "month";
  total: ImpactReport;
  trend: ImpactReport;
  byServer: ImpactReport;
  byTool: ImpactReport;
  /** Registry name → the server page's path, for servers the catalog still has. */
  hrefOf: (registryName: string) => string | undefined;
}

export function impactPage(d: ImpactPageData, ctx: { viewer: Viewer; demoLogin: boolean }): string {
  const serverLabel = (name: string) => {
    const href = d.hrefOf(name);
    return href ? html`<a href="${href}"><code>${name}</code></a>` : html`<code>${name}</code>`;
  };
  const other = (over: Record<string, string>) => {
    const p = new URLSearchParams({ trend: d.trendBy, estimate: d.estimate, ...over });
    return `/impact?${p.toString()}`;
  };
  const scope = ctx.viewer.privileged ? "the whole fleet" : "the servers you can use";
  const body = html`${IMPACT_STYLE}<h1>Impact</h1>
<p class="meta">Time saved across ${scope}, ${d.from} to ${d.to} (last 30 days). Minutes per call:
${d.estimate === "declared" ? html`<b>declared by the owners</b> · <a href="${other({ estimate: "feedback" })}" data-testid="estimate-feedback">calibrated by people's feedback</a>` : html`<a href="${other({ estimate: "declared" })}" data-testid="estimate-declared">declared by the owners</a> · <b>calibrated by people's feedback</b>`}</p>
${headline(d.total.total)}
<h2>Trend by ${d.trendBy} ${d.trendBy === "week" ? html`<a class="meta" href="${other({ trend: "month" })}">by month</a>` : html`<a class="meta" href="${other({ trend: "week" })}">by week</a>`}</h2>
${trendChart(d.trend.groups, d.trendBy)}
<h2>By server</h2>
${groupTable("by-server", "Server", d.byServer.groups, (g) => serverLabel(g.server ?? g.key))}
<h2>By tool</h2>
${groupTable("by-tool", "Tool", d.byTool.groups, (g) => html`<code>${g.tool ?? ""}</code> <span class="meta">${g.server ?? ""}</span>`)}`;
  return page("Impact", body, ctx);
}

/** The server page's own section: its figures, estimates beside feedback, and the widget. */
export function serverImpactSection(entry: CatalogEntry, report: ImpactReport, estimates: readonly ToolEstimate[], canGiveFeedback: boolean): Html {
  const rows = estimates.map(
    (t) => html`<tr data-testid="estimate-row" data-tool="${t.tool}"><td><code>${t.tool}</code></td><td>${n(t.declaredMinutes)}</td>
<td data-testid="median">${t.feedbackMedianMinutes === null ? "—" : n(t.feedbackMedianMinutes)}</td><td data-testid="count">${t.feedbackCount}</td><td>${t.helpful} of ${t.feedbackCount}</td></tr>`,
  );
  const options = entry.spec.tools.map((t) => html`<option value="${t.name}">${t.name}</option>`);
  const widget = canGiveFeedback
    ? html`<form class="feedback card" data-testid="feedback-form">
<input type="hidden" name="server" value="${entry.registryName}">
<label>Tool <select name="tool" data-testid="feedback-tool">${options}</select></label>
<label>Minutes it saved you <input type="number" name="minutesSaved" min="0" max="1440" step="1" required data-testid="feedback-minutes"></label>
<label><input type="checkbox" name="helpful" value="true" checked data-testid="feedback-helpful"> It helped</label>
<label class="wide">Comment (optional) <input type="text" name="comment" maxlength="1000" data-testid="feedback-comment"></label>
<button type="submit" data-testid="feedback-send">Send feedback</button> <span class="meta" data-testid="feedback-result" role="status"></span>
</form>`
    : html``;
  const f = report.total;
  return html`${IMPACT_STYLE}<h2>Impact · last 30 days</h2>
<div class="chips" data-testid="server-impact"><span class="chip">${n(f.calls)} calls</span><span class="chip">${n(f.okCalls)} succeeded</span><span class="chip">${n(f.people)} people</span><span class="chip ok">${n(f.hoursSaved)} hours saved</span></div>
<h2>Minutes saved per call: declared and felt</h2>
<table data-testid="estimates"><thead><tr><th>Tool</th><th>Declared</th><th>Feedback median</th><th>Feedback count</th><th>Helpful</th></tr></thead><tbody>${rows}</tbody></table>
${widget}${canGiveFeedback ? { html: `<script>${FEEDBACK_SCRIPT}</script>` } : html``}`;
}

/** The widget's script: sends the form as JSON and says what happened, without leaving the page. */
export const FEEDBACK_SCRIPT = `
document.addEventListener("submit", async (e) => {
  const form = e.target.closest("form.feedback");
  if (!form) return;
  e.preventDefault();
  const data = new FormData(form);
  const body = { server: data.get("server"), tool: data.get("tool"), minutesSaved: Number(data.get("minutesSaved")), helpful: data.get("helpful") === "true" };
  const comment = String(data.get("comment") || "").trim();
  if (comment) body.comment = comment;
  const out = form.querySelector("[data-testid=feedback-result]");
  const res = await fetch("/ui/feedback", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const answer = await res.json().catch(() => ({}));
  out.textContent = res.ok ? (answer.replaced ? "Thanks: today's feedback for this tool was replaced." : "Thanks: feedback recorded.") : "Not sent: " + (answer.error || res.status);
});
`;
