/** The UI's pages: the catalog (with the reviewer's queue), a server, and the local login. */
import type { CatalogEntry } from "../catalog.js";
import { reviewPosture, waitingFor, type AreaPosture, type Viewer } from "../visibility.js";
import { clientConfigs } from "./client-configs.js";
import { html, page, type Html } from "./html.js";
import { pendingChangeView } from "./review-diff.js";

export interface PageContext {
  viewer: Viewer;
  areas: readonly string[];
  demoLogin: boolean;
  signOut?: boolean;
}

const serverHref = (e: CatalogEntry) => `/servers/${encodeURIComponent(e.namespace)}/${encodeURIComponent(e.name)}`;

function liveStatus(e: CatalogEntry): Html {
  if (e.published) return html`<span class="chip ok" data-testid="status">Live</span>`;
  const phase = e.status.phase ?? "Not reconciled yet";
  const tone = phase === "Rejected" || phase === "Degraded" ? "bad" : "warn";
  return html`<span class="chip ${tone}" data-testid="status">${phase}</span>`;
}

const TONE: Record<AreaPosture["state"], string> = { Approved: "ok", Rejected: "bad", Pending: "warn", Stale: "warn" };
function posture(e: CatalogEntry, areas: readonly string[]): Html[] {
  return reviewPosture(e, areas).map((p) => html`<span class="chip ${TONE[p.state]}" title="${p.reviewer ? `by ${p.reviewer}` : "no decision yet"}">${p.area}: ${p.state}</span>`);
}

function card(e: CatalogEntry, ctx: PageContext, extra?: Html): Html {
  return html`<article class="card" data-testid="server-card" data-server="${e.registryName}">
  <h3><a href="${serverHref(e)}">${e.spec.title}</a> <span class="meta">v${e.spec.version}</span></h3>
  <p>${e.spec.description}</p>
  <div class="meta">Owner <b>${e.spec.owner.team}</b> · Support <b>${e.spec.owner.contact}</b></div>
  <div class="chips">${liveStatus(e)}${posture(e, ctx.areas)}</div>
  <div class="meta">${e.spec.tools.length} tools · <code>${e.registryName}</code></div>${extra ?? html``}
</article>`;
}

export function catalogPage(visible: readonly CatalogEntry[], search: string, ctx: PageContext): string {
  const queue = ctx.viewer.reviewerAreas.length
    ? visible.map((e) => ({ e, areas: waitingFor(e, ctx.viewer, ctx.areas) })).filter((q) => q.areas.length > 0)
    : [];
  const queueSection = ctx.viewer.reviewerAreas.length
    ? html`<section data-testid="review-queue"><h2>Waiting for your review (${ctx.viewer.reviewerAreas.join(", ")}) · ${queue.length}</h2>
${queue.length ? html`<div class="grid">${queue.map((q) => card(q.e, ctx, html`<div class="meta">Needs: <b>${q.areas.join(", ")}</b></div>${pendingChangeView(q.e, ctx.viewer, true)}`))}</div>` : html`<div class="empty">Nothing waits for you.</div>`}</section>`
    : html``;
  const body = html`<h1>MCP servers</h1>
<form class="search" method="get" action="/" role="search"><input type="search" name="q" value="${search}" placeholder="Search by name, title or description" aria-label="Search servers" data-testid="search"><button type="submit">Search</button></form>
${queueSection}
<h2>${search ? `Servers matching “${search}”` : "Servers you can use"} · ${visible.length}</h2>
${visible.length ? html`<div class="grid" data-testid="catalog">${visible.map((e) => card(e, ctx))}</div>` : html`<div class="empty" data-testid="catalog-empty">No servers${search ? " match this search" : " you may use"}.</div>`}`;
  return page("Servers", body, { viewer: ctx.viewer, demoLogin: ctx.demoLogin, signOut: ctx.signOut ?? false });
}

function conditionRows(e: CatalogEntry): Html[] {
  return (e.status.conditions ?? []).map(
    (c) => html`<tr><td>${c.type}</td><td><span class="chip ${c.status === "True" ? "ok" : c.status === "False" ? "bad" : "warn"}">${c.status}</span></td><td>${c.reason}</td><td>${c.message}</td></tr>`,
  );
}

export function serverPage(e: CatalogEntry, ctx: PageContext, impact?: Html): string {
  const tools = e.spec.tools.map(
    (t) => html`<tr><td><code>${t.name}</code></td><td>${t.description ?? ""}</td>
<td><div class="chips">${t.readOnly ? html`<span class="chip ok">read-only</span>` : html`<span class="chip">writes</span>`}${t.sensitive ? html`<span class="chip bad" title="A person confirms every call">sensitive: confirm each call</span>` : html``}</div></td>
<td>${t.minutesSaved}</td><td>${t.allowedGroups ? t.allowedGroups.join(", ") : "everyone the server admits"}</td></tr>`,
  );
  const configs = clientConfigs(e.name, e.url).map(
    (c) => html`<div class="config" data-testid="config-${c.id}"><div class="head"><span><b>${c.client}</b> <span class="meta">— ${c.where}</span></span>
<button class="secondary" data-copy="cfg-${c.id}" data-testid="copy-${c.id}">Copy</button></div><pre id="cfg-${c.id}">${c.text}</pre></div>`,
  );
  const reviews = reviewPosture(e, ctx.areas).map(
    (p) => html`<tr><td>${p.area}</td><td><span class="chip ${TONE[p.state]}">${p.state}</span></td><td>${p.reviewer ?? ""}</td><td>${p.at ?? ""}</td><td>${p.comment ?? ""}</td></tr>`,
  );
  const conditions = conditionRows(e);
  const body = html`<p class="meta"><a href="/">← All servers</a></p>
<h1 data-testid="server-title">${e.spec.title} <span class="meta">v${e.spec.version}</span></h1>
<p>${e.spec.description}</p>
<div class="chips">${liveStatus(e)}${posture(e, ctx.areas)}</div>
<table><tbody>
<tr><th>Registry name</th><td><code>${e.registryName}</code></td></tr>
<tr><th>Endpoint</th><td><code data-testid="endpoint">${e.url}</code></td></tr>
<tr><th>Owner team</th><td>${e.spec.owner.team}</td></tr><tr><th>Support</th><td>${e.spec.owner.contact}</td></tr>
<tr><th>Who may use it</th><td>${e.spec.access.allowedGroups.join(", ") || "no group"}${e.spec.access.allowedServiceAccounts.length ? ` · service accounts: ${e.spec.access.allowedServiceAccounts.join(", ")}` : ""}</td></tr>
<tr><th>Live status</th><td>${e.status.phase ?? "not reconciled yet"}${e.status.readyReplicas !== undefined ? ` · ${e.status.readyReplicas} ready` : ""}</td></tr>
</tbody></table>
<h2>Connect</h2>${configs}
<h2>Tools · ${e.spec.tools.length}</h2>
<table data-testid="tools"><thead><tr><th>Tool</th><th>What it does</th><th>Kind</th><th>Minutes saved / call</th><th>Groups</th></tr></thead><tbody>${tools}</tbody></table>
${impact ?? html``}
${pendingChangeView(e, ctx.viewer)}
<h2>Review</h2><table><thead><tr><th>Area</th><th>State</th><th>Reviewer</th><th>At</th><th>Comment</th></tr></thead><tbody>${reviews}</tbody></table>
${conditions.length ? html`<h2>Conditions</h2><table><thead><tr><th>Type</th><th>Status</th><th>Reason</th><th>Message</th></tr></thead><tbody>${conditions}</tbody></table>` : html``}`;
  return page(e.spec.title, body, { viewer: ctx.viewer, demoLogin: ctx.demoLogin, signOut: ctx.signOut ?? false });
}

export interface DemoUser {
  name: string;
  groups: string[];
  role: string;
}

export function loginPage(users: readonly DemoUser[]): string {
  const buttons = users.map(
    (u) => html`<form method="post" action="/login"><input type="hidden" name="user" value="${u.name}"><button type="submit" data-testid="login-${u.name}"><b>${u.name}</b><small>${u.role}</small><small>${u.groups.join(", ") || "no groups"}</small></button></form>`,
  );
  return page("Sign in", html`<h1>Sign in as a demo user</h1><p class="meta">Without an identity provider (tests only): each user is a signed token of a test issuer.</p><div class="users">${buttons}</div>`);
}

export function messagePage(title: string, message: string, viewer?: Viewer): string {
  return page(title, html`<h1>${title}</h1><div class="empty">${message}</div><p><a href="/">Back to the servers</a></p>`, viewer ? { viewer } : {});
}
