// The scores computed from a response (Observations derived from it), if any.
function label(observation) {
  const coding = (observation.code?.coding || [])[0];
  return observation.code?.text || coding?.display || coding?.code || "Skår";
}

function value(observation) {
  if (observation.valueQuantity) {
    const { value: number, unit } = observation.valueQuantity;
    return `${number}${unit ? ` ${unit}` : ""}`;
  }
  if (observation.valueInteger !== undefined) return String(observation.valueInteger);
  if (observation.valueString) return observation.valueString;
  if (observation.valueCodeableConcept) return observation.valueCodeableConcept.text || observation.valueCodeableConcept.coding?.[0]?.display || "";
  return "–";
}

export default function Scores({ observations }) {
  if (!observations.length) return null;
  return (
    <>
      <h3>Skårer</h3>
      <dl className="answers scores">
        {observations.map((observation) => (
          <div key={observation.id}>
            <dt>{label(observation)}</dt>
            <dd>{value(observation)}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}
