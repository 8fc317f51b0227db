// The unit's work lists: today's appointments with their episodes and pre-consultation forms, and the unfinished
// clinician forms — the signed-in clinician's own and the unit's (N13).
import Heading from "../../components/Heading.jsx";
import TodaysAppointments from "./TodaysAppointments.jsx";
import UnfinishedForms from "./UnfinishedForms.jsx";

export default function WorkList({ session }) {
  return (
    <>
      <Heading title="Arbeidsliste">Arbeidsliste for enheten</Heading>
      <TodaysAppointments token={session.token} />
      <UnfinishedForms
        token={session.token}
        mine={true}
        title="Mine uferdige skjema"
        empty="Du har ingen uferdige behandlerskjema."
      />
      <UnfinishedForms
        token={session.token}
        mine={false}
        title="Enhetens uferdige skjema"
        empty="Enheten har ingen uferdige behandlerskjema."
      />
    </>
  );
}
