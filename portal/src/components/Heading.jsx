// A page's heading: names the page in the browser's title and, when the page changes within the app, takes the
// focus, so that a screen reader announces the new page and the keyboard goes on from it. The first page after a
// fresh load leaves the focus to the browser (the skip link comes first).
import { useEffect, useRef } from "react";

let shown = 0;
let site = "Pasientskjema";

/** The site's name after each page's title (``Pasientskjema`` unless set): call before the first render. */
export function setSiteName(name) {
  site = name;
}

export default function Heading({ children, title }) {
  const ref = useRef(null);
  const text = title || (typeof children === "string" ? children : "");
  useEffect(() => {
    document.title = text ? `${text} – ${site}` : site;
    if (shown++ > 0) ref.current?.focus();
  }, [text]);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}
