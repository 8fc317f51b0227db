// Every registry form the server ships (../profiles/Questionnaire-*.json) renders in Helsenorge's own renderer,
// @helsenorge/refero: each visible question's text is on the page, and nothing throws.
import fs from "node:fs";
import path from "node:path";
import { render, screen, cleanup } from "@testing-library/react";
import { Provider } from "react-redux";
import { Refero, store as makeStore } from "@helsenorge/refero";
import { afterEach, describe, expect, test } from "vitest";

const PROFILES = path.resolve(__dirname, "../../profiles");
const forms = fs
  .readdirSync(PROFILES)
  .filter((name) => name.startsWith("Questionnaire-"))
  .map((name) => JSON.parse(fs.readFileSync(path.join(PROFILES, name), "utf8")));

afterEach(cleanup);

function visibleQuestions(items) {
  // top-level and grouped questions without enableWhen (those appear only once their condition holds)
  return items.flatMap((item) => {
    if (item.enableWhen) return [];
    if (item.type === "group") return visibleQuestions(item.item || []);
    return item.type === "quantity" ? [] : [item];
  });
}

describe("registry forms in refero", () => {
  test("there are forms to render", () => {
    expect(forms.length).toBeGreaterThanOrEqual(7);
  });

  test.each(forms.map((form) => [form.id, form]))("%s renders every visible question", (_id, form) => {
    render(
      <Provider store={makeStore()}>
        <Refero
          questionnaire={form}
          onSubmit={() => {}}
          onSave={() => {}}
          onCancel={() => {}}
          authorized={true}
          resources={{}}
          language="nb-NO"
        />
      </Provider>,
    );
    for (const question of visibleQuestions(form.item)) {
      expect(screen.getAllByText(question.text, { exact: false }).length, question.linkId).toBeGreaterThan(0);
    }
  });
});
