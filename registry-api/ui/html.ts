/** The page frame of the web UI: escaping, the layout, its stylesheet and its one small script. */
import type { Viewer } from "../visibility.js";

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text for HTML content and attribute values: everything shown comes from manifests people write. */
export const esc = (s: string | number): string => String(s).replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/** Marks a string as already-escaped HTML. */
export interface Html {
  html: string;
}
export const html = (strings: TemplateStringsArray, ...values: Array<string | number | Html | Html[]>): Html => {
  let out = strings[0]!;
  values.forEach((v, i) => {
    if (Array.isArray(v)) out += v.map((h) => h.html).join("");
    else out += typeof v === "object" ? v.html : esc(v);
    out += strings[i + 1]!;
  });
  return { html: out };
};

const STYLE = `
:root{--fg:#1c2330;--muted:#5b6577;--line:#e3e7ee;--bg:#f6f8fb;--card:#fff;--accent:#2f5bea;--ok:#137a3d;--okbg:#e3f5ea;--warn:#8a5a00;--warnbg:#fdf1d8;--bad:#a4262c;--badbg:#fbe3e4;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
header{background:#111827;color:#fff;padding:.8rem 1.5rem;display:flex;align-items:center;gap:1rem}
header .brand{font-weight:700;letter-spacing:.02em;color:#fff}header .who{margin-left:auto;font-size:.9rem;color:#cbd5e1}
header .who a{color:#93c5fd;margin-left:.6rem}header a.nav{color:#cbd5e1}
main{max-width:1080px;margin:0 auto;padding:1.5rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}
form.search{display:flex;gap:.5rem;margin-bottom:1.2rem}form.search input{flex:1;padding:.55rem .8rem;border:1px solid var(--line);border-radius:8px;font-size:1rem}
button,.button{padding:.5rem .9rem;border:1px solid var(--accent);background:var(--accent);color:#fff;border-radius:8px;font-size:.9rem;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1rem 1.1rem}
.card h3{margin:0 0 .2rem;font-size:1.05rem}.card p{margin:.2rem 0 .6rem;color:var(--muted)}
.meta{font-size:.85rem;color:var(--muted)}.meta b{color:var(--fg);font-weight:600}
.chips{display:flex;flex-wrap:wrap;gap:.35rem;margin:.4rem 0}
.chip{font-size:.75rem;padding:.1rem .5rem;border-radius:999px;border:1px solid var(--line);background:#fff;color:var(--muted);white-space:nowrap}
.chip.ok{background:var(--okbg);color:var(--ok);border-color:transparent}.chip.warn{background:var(--warnbg);color:var(--warn);border-color:transparent}.chip.bad{background:var(--badbg);color:var(--bad);border-color:transparent}
.queue{border-left:4px solid var(--warn)}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:12px;overflow:hidden}
th,td{text-align:left;padding:.5rem .7rem;border-bottom:1px solid var(--line);vertical-align:top;font-size:.9rem}th{background:#f1f4f9;font-weight:600}
code,pre{font-family:var(--mono);font-size:.85rem}pre{background:#0f172a;color:#e2e8f0;padding:.8rem 1rem;border-radius:8px;overflow:auto;margin:.3rem 0 0}
.config{margin-bottom:1rem}.config .head{display:flex;align-items:center;justify-content:space-between}
.empty{color:var(--muted);padding:2rem;text-align:center;background:var(--card);border:1px dashed var(--line);border-radius:12px}
.users{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:.8rem}.users button{width:100%;text-align:left;background:#fff;color:var(--fg);border-color:var(--line)}
.users button:hover{border-color:var(--accent)}.users small{display:block;color:var(--muted)}
`;

const SCRIPT = `
document.addEventListener("click", async (e) => {
  const button = e.target.closest("[data-copy]");
  if (!button) return;
  const text = document.getElementById(button.dataset.copy).textContent;
  try { await navigator.clipboard.writeText(text); }
  catch { const t = document.createElement("textarea"); t.value = text; document.body.append(t); t.select(); document.execCommand("copy"); t.remove(); }
  button.textContent = "Copied"; setTimeout(() => (button.textContent = "Copy"), 1500);
});
`;

export function who(viewer: Viewer | undefined): string {
  if (!viewer) return "";
  const c = viewer.caller;
  const name = c.kind === "user" ? c.subject : `${c.namespace}/${c.name} (service account)`;
  const roles = [...viewer.reviewerAreas.map((a) => `${a} reviewer`), ...(viewer.admin ? ["admin"] : [])];
  return roles.length ? `${name} · ${roles.join(", ")}` : name;
}

export function page(title: string, body: Html, options: { viewer?: Viewer; demoLogin?: boolean; signOut?: boolean } = {}): string {
  const signOut = options.signOut ? html`<form method="post" action="/logout" style="display:inline"><button class="secondary" type="submit" data-testid="sign-out">Sign out</button></form>` : html``;
  const account = options.viewer
    ? html`<span class="who">Signed in as <b data-testid="viewer">${who(options.viewer)}</b>${options.demoLogin ? html`<a href="/login">switch user</a>` : html``} ${signOut}</span>`
    : html``;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · Toolfleet</title><style>${STYLE}</style></head><body>
<header><a class="brand" href="/">Toolfleet registry</a><a class="nav" href="/impact" data-testid="nav-impact">Impact</a>${account.html}</header><main>${body.html}</main><script>${SCRIPT}</script></body></html>`;
}
