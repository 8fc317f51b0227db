// A response as a readable list: each answered question of the Questionnaire (in its order, grouped as it groups
// them) with its answers. Unanswered questions are left out.
import { formatDate, formatDateTime } from "../../format.js";

function answersByLinkId(items, found = new Map()) {
  for (const item of items || []) {
    if (item.answer?.length) found.set(item.linkId, item.answer);
    answersByLinkId(item.item, found);
    for (const answer of item.answer || []) answersByLinkId(answer.item, found);
  }
  return found;
}

export function answerText(answer) {
  if (answer.valueCoding) return answer.valueCoding.display || answer.valueCoding.code;
  if (answer.valueBoolean !== undefined) return answer.valueBoolean ? "Ja" : "Nei";
  if (answer.valueDate) return formatDate(answer.valueDate);
  if (answer.valueDateTime) return formatDateTime(answer.valueDateTime);
  if (answer.valueQuantity) return `${answer.valueQuantity.value} ${answer.valueQuantity.unit || ""}`.trim();
  for (const key of ["valueString", "valueInteger", "valueDecimal", "valueTime", "valueUri"]) {
    if (answer[key] !== undefined) return String(answer[key]);
  }
  return "(svar som ikke kan vises)";
}

function answered(item, answers) {
  return answers.has(item.linkId) || (item.item || []).some((child) => answered(child, answers));
}

function Items({ items, answers }) {
  const shown = (items || []).filter((item) => answered(item, answers));
  return (
    <dl className="answers">
      {shown.map((item) =>
        item.type === "group" ? (
          <div key={item.linkId} className="answer-group">
            <dt>{item.text || item.linkId}</dt>
            <dd>
              <Items items={item.item} answers={answers} />
            </dd>
          </div>
        ) : (
          <div key={item.linkId}>
            <dt>{item.text || item.linkId}</dt>
            <dd>{answers.get(item.linkId).map(answerText).join(", ")}</dd>
          </div>
        ),
      )}
    </dl>
  );
}

export default function AnswerSummary({ questionnaire, response }) {
  const answers = answersByLinkId(response?.item);
  if (!answers.size) return <p>Skjemaet har ingen svar.</p>;
  return <Items items={questionnaire.item} answers={answers} />;
}
