// The unit's quality reports (N22): choose a quarter or a year, read the report in the page (a sandboxed frame: the
// report is a document of its own, with its own styles) and download it as PDF.
import { useId, useState } from "react";
import ErrorAlert, { messagesOf } from "../../components/ErrorAlert.jsx";
import Heading from "../../components/Heading.jsx";
import { downloadBlob } from "../../download.js";
import { useLoad } from "../../hooks.js";
import { ownUnit, reportHtml, reportPdf, reportPeriods } from "../qualityReports.js";

export default function ReportsPage({ session }) {
  const periods = reportPeriods();
  const [period, setPeriod] = useState(periods.quarters[0].value);
  const [pdf, setPdf] = useState({ busy: false, error: null });
  const selectId = useId();
  const [{ data: unit, error: unitError }] = useLoad(() => ownUnit(session.token, session.org), [session]);
  const [{ loading, data: html, error }] = useLoad(
    () => (unit ? reportHtml(session.token, unit.id, period) : new Promise(() => {})),
    [unit, period],
  );
  const chosen = [...periods.quarters, ...periods.years].find((p) => p.value === period);

  async function download() {
    setPdf({ busy: true, error: null });
    try {
      const { blob, name } = await reportPdf(session.token, unit.id, period);
      downloadBlob(blob, name);
      setPdf({ busy: false, error: null });
    } catch (failure) {
      setPdf({ busy: false, error: failure });
    }
  }

  return (
    <>
      <Heading title="Kvalitetsrapporter">Kvalitetsrapporter for enheten</Heading>
      <p>
        Enhetens resultater på kvalitetsindikatorene i NNRR sammenlignet med resten av landet: kvartalsrapporter og
        årsrapporter.
      </p>
      {unitError && <ErrorAlert title="Fant ikke enheten" messages={messagesOf(unitError)} />}
      <div className="report-controls">
        <label htmlFor={selectId}>Periode</label>
        <select id={selectId} value={period} onChange={(event) => setPeriod(event.target.value)}>
          <optgroup label="Kvartalsrapporter">
            {periods.quarters.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </optgroup>
          <optgroup label="Årsrapporter">
            {periods.years.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </optgroup>
        </select>
        <button type="button" onClick={download} disabled={!unit || pdf.busy}>
          {pdf.busy ? "Lager PDF …" : "Last ned PDF"}
        </button>
      </div>
      {pdf.error && <ErrorAlert title="Kunne ikke lage PDF-en" messages={messagesOf(pdf.error)} />}
      {loading && !unitError && <p role="status">Henter rapporten …</p>}
      {error && <ErrorAlert title="Kunne ikke hente rapporten" messages={messagesOf(error)} />}
      {html && (
        <iframe
          className="report-frame"
          title={`Kvalitetsrapport, ${chosen?.label || period}`}
          sandbox=""
          srcDoc={html}
        />
      )}
    </>
  );
}
