// A small router for the pages' few paths: paths under /portal (the patient portal) or /clinic (the clinicians'
// pages, which call setBase first), the browser's history, links that keep the keyboard and the middle click working.
import { useEffect, useState } from "react";

let base = "/portal";
const listeners = new Set();

/** The path the pages live under (``/portal`` unless set): call before the first render. */
export function setBase(path) {
  base = path;
}

export function currentPath() {
  const path = window.location.pathname;
  if (!path.startsWith(base)) return "/";
  return path.slice(base.length).replace(/\/+$/, "") || "/";
}

export function navigate(path, { replace = false } = {}) {
  const url = base + path;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  for (const listener of listeners) listener();
}

export function usePath() {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    listeners.add(update);
    window.addEventListener("popstate", update);
    update(); // a child's redirect on the first render runs before this effect subscribes
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return path;
}

export function Link({ to, children, ...rest }) {
  function follow(event) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  }
  return (
    <a href={base + to} onClick={follow} {...rest}>
      {children}
    </a>
  );
}
