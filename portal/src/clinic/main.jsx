// The clinicians' pages at /clinic: the same router and components as the patient portal, under another base.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { setSiteName } from "../components/Heading.jsx";
import { setBase } from "../router.jsx";
import App from "./App.jsx";
import "../styles.css";
import "./clinic.css";

setBase("/clinic");
setSiteName("Registerskjema for klinikken");

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
