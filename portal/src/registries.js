// The registries the portal knows by code: their names, and whether a patient must consent before sending a form
// (the PlanDefinition's registry-consent-rule: NNRR required, OPR exempt). An unknown registry asks for consent.
const REGISTRIES = {
  nnrr: { name: "Norsk nakke- og ryggregister (NNRR)", consent: true },
  opr: { name: "Smerteregisteret ved Oslo universitetssykehus (OPR)", consent: false },
};

export function registryInfo(code) {
  return REGISTRIES[code] || { name: "kvalitetsregisteret", consent: true };
}
