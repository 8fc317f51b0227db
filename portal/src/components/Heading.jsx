// A page's heading: names the page in the browser's title and takes the focus when the page opens, so that a
// screen reader announces the new page and the keyboard starts from it.
import { useEffect, useRef } from "react";

export default function Heading({ children, title }) {
  const ref = useRef(null);
  const text = title || (typeof children === "string" ? children : "");
  useEffect(() => {
    document.title = text ? `${text} – Pasientskjema` : "Pasientskjema";
    ref.current?.focus({ preventScroll: false });
  }, [text]);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}
