// Hash routes (#/..., #/providers/<id>): the server serves one page, and addresses never
// carry credentials.

const routes = [];
let current = null; // {cleanup}

export function route(pattern, view, nav) {
  routes.push({ pattern, view, nav });
}

function parse(hash) {
  const raw = hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  return { path, params: new URLSearchParams(query) };
}

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

export function render() {
  const main = document.getElementById("main");
  const { path, params } = parse(location.hash);
  if (current && current.cleanup) current.cleanup();
  current = null;
  for (const r of routes) {
    const match = r.pattern.exec(path);
    if (!match) continue;
    for (const link of document.querySelectorAll("[data-nav]")) {
      if (link.dataset.nav === r.nav) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    main.replaceChildren();
    current = { cleanup: r.view(main, match.slice(1), params) || null };
    return;
  }
  navigate("#/");
}

export function startRouter() {
  window.addEventListener("hashchange", () => {
    render();
    document.getElementById("main").focus({ preventScroll: true });
  });
  render();
}
