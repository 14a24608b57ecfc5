/** The dashboard's one stylesheet, served from /dashboard/assets/ (the CSP allows no inline style). */
export const STYLES = `
:root{--bg:#f6f7f9;--panel:#fff;--text:#1f2328;--muted:#57606a;--line:#d0d7de;--accent:#0b57d0;--accent-text:#fff;
--ok:#116329;--ok-bg:#dafbe1;--warn:#7d4e00;--warn-bg:#fff8c5;--bad:#a40e26;--bad-bg:#ffebe9;--info-bg:#ddf4ff;--focus:#0b57d0;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--text);background:var(--bg);line-height:1.45}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;min-height:100vh;display:flex;flex-direction:column}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:var(--panel);padding:.5rem 1rem;z-index:10}
.skip:focus{left:.5rem}
header.top{background:#0d1117;color:#f0f6fc;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;padding:.6rem 1.25rem}
header.top a{color:#f0f6fc}
.brand{font-weight:700;font-size:1.1rem;text-decoration:none;letter-spacing:.01em}
nav.main ul{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem;margin:0;padding:0}
nav.main a{display:block;padding:.35rem .7rem;border-radius:6px;text-decoration:none}
nav.main a[aria-current=page]{background:#30363d;font-weight:600}
nav.main a:hover{background:#21262d}
.who{margin-left:auto;display:flex;align-items:center;gap:.75rem;font-size:.9rem;color:#c9d1d9}
.who button{background:transparent;color:#f0f6fc;border:1px solid #6e7681}
main{flex:1;width:100%;max-width:72rem;margin:0 auto;padding:1.25rem}
h1{font-size:1.5rem;margin:.25rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .75rem}
h3{font-size:1rem;margin:0 0 .5rem}
p.lead{color:var(--muted);margin-top:-.5rem}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:1rem 1.25rem;margin-bottom:1rem}
.bar{display:flex;flex-wrap:wrap;align-items:center;gap:.75rem;justify-content:space-between;margin-bottom:1rem}
.bar h1{margin:0}
button,.button{font:inherit;font-size:.95rem;display:inline-flex;align-items:center;gap:.35rem;padding:.45rem .9rem;border-radius:6px;
border:1px solid var(--line);background:var(--panel);color:var(--text);cursor:pointer;text-decoration:none;min-height:2.25rem}
button.primary,.button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-text)}
button.danger,.button.danger{background:var(--bad);border-color:var(--bad);color:#fff}
button.link{border:0;background:none;color:var(--accent);padding:0;min-height:0;text-decoration:underline}
button:hover,.button:hover{filter:brightness(.95)}
form.inline{display:inline}
label{font-weight:600;display:block;margin-bottom:.25rem}
.field{margin-bottom:1rem}
.hint{color:var(--muted);font-size:.875rem;font-weight:400;margin:.2rem 0 0}
input[type=text],input[type=password],input[type=search],input[type=url],select,textarea{font:inherit;width:100%;max-width:40rem;
padding:.45rem .6rem;border:1px solid #8c959f;border-radius:6px;background:#fff;color:var(--text);min-height:2.4rem}
textarea{min-height:6rem;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem}
fieldset{border:1px solid var(--line);border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem;min-width:0}
legend{font-weight:600;padding:0 .3rem}
.choice{display:flex;gap:.5rem;align-items:flex-start;font-weight:400;margin:.3rem 0}
.choice input{margin-top:.3rem}
.choice .hint{display:block}
.panel>h2:first-child,.panel>h1:first-child{margin-top:0}
table{width:100%;border-collapse:collapse;background:var(--panel)}
th,td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:10px;margin-bottom:1rem}
.table-wrap tr:last-child td{border-bottom:0}
.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem;white-space:nowrap;word-break:keep-all}
.copy code,.scope-needs code,h1 code,.notice code{white-space:normal;overflow-wrap:anywhere}
.email{overflow-wrap:break-word}
code.command{white-space:normal}code.command span{white-space:nowrap}
.badge{display:inline-block;font-size:.75rem;font-weight:700;padding:.1rem .5rem;border-radius:999px;border:1px solid transparent;white-space:nowrap}
.badge.ok{color:var(--ok);background:var(--ok-bg);border-color:#4ac26b}
.badge.warn{color:var(--warn);background:var(--warn-bg);border-color:#d4a72c}
.badge.bad{color:var(--bad);background:var(--bad-bg);border-color:#ff8182}
.badge.info{color:#0a3069;background:var(--info-bg);border-color:#54aeff}
.badge.muted{color:var(--muted);background:#eaeef2;border-color:#afb8c1}
.scope-needs ul{margin:.25rem 0 .75rem;padding-left:1.25rem}
.notice{padding:.75rem 1rem;border-radius:8px;margin-bottom:1rem;border:1px solid}
.notice.ok{background:var(--ok-bg);border-color:#4ac26b}
.notice.bad{background:var(--bad-bg);border-color:#ff8182}
.notice ul{margin:.25rem 0 0;padding-left:1.25rem}
.icon{width:1.75rem;height:1.75rem;flex:none;display:inline-block;vertical-align:middle}
.icon svg{width:100%;height:100%}
.provider-cell{display:flex;gap:.6rem;align-items:center}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:.75rem;margin-bottom:1rem}
.card{display:flex;gap:.75rem;align-items:flex-start;background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:1rem;
text-decoration:none;color:inherit}
a.card:hover{border-color:var(--accent)}
.card.selected{border:2px solid var(--accent)}
.card .icon{width:2.5rem;height:2.5rem}
.card strong{display:block}
.card span{color:var(--muted);font-size:.9rem}
.copy{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.copy code{background:#eaeef2;padding:.35rem .5rem;border-radius:6px;flex:1 1 18rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.tool-list{list-style:none;margin:.5rem 0 0;padding:0;max-height:28rem;overflow:auto;border-top:1px solid var(--line)}
.tool-list li{border-bottom:1px solid var(--line);padding:.4rem 0}
.tool-list label{display:flex;gap:.6rem;font-weight:400;margin:0}
.tool-list .name{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem;font-weight:600;overflow-wrap:anywhere}
.tool-list .desc{display:block;color:var(--muted);font-size:.85rem;margin-left:1.6rem}
.tool-tools{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.tool-tools input[type=search]{max-width:20rem}
.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.75rem;align-items:end}
.filters .field{margin:0}
.chart svg{width:100%;height:auto;max-height:16rem;display:block}
.legend{display:flex;gap:1rem;font-size:.85rem;color:var(--muted)}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.3rem;vertical-align:middle}
.swatch.calls{background:#218bff}.swatch.errors{background:#cf222e}
.signin{max-width:26rem;margin:3rem auto}
.muted{color:var(--muted)}
.pager{display:flex;gap:.5rem;justify-content:flex-end}
.visually-hidden{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
footer{color:var(--muted);font-size:.8rem;text-align:center;padding:1rem}
@media (max-width:40rem){
main{padding:.75rem}
header.top{padding:.5rem .75rem}
.who{margin-left:0;width:100%;justify-content:space-between}
table.stack thead{display:none}
table.stack tr{display:block;border-bottom:1px solid var(--line);padding:.4rem 0}
table.stack td{display:flex;gap:.75rem;border:0;padding:.2rem .6rem;text-align:left}
table.stack td::before{content:attr(data-label);font-weight:600;color:var(--muted);min-width:6.5rem;flex:none}
table.stack td>*{min-width:0}
table.stack td code{white-space:normal;overflow-wrap:anywhere}
}
`;
