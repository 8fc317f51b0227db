// A small router for the portal's few pages: paths under /portal, the browser's history, links that keep the
// keyboard and the middle click working.
import { useEffect, useState } from "react";

export const BASE = "/portal";
const listeners = new Set();

export function currentPath() {
  const path = window.location.pathname;
  if (!path.startsWith(BASE)) return "/";
  return path.slice(BASE.length).replace(/\/+$/, "") || "/";
}

export function navigate(path, { replace = false } = {}) {
  const url = BASE + path;
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
    <a href={BASE + to} onClick={follow} {...rest}>
      {children}
    </a>
  );
}
