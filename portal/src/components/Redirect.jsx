import { useEffect } from "react";
import { navigate } from "../router.jsx";

export default function Redirect({ to }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}
