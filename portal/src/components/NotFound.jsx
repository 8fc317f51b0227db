import { Link } from "../router.jsx";
import Heading from "./Heading.jsx";

export default function NotFound() {
  return (
    <>
      <Heading>Fant ikke siden</Heading>
      <p>
        Siden finnes ikke. <Link to="/">Gå til forsiden</Link>.
      </p>
    </>
  );
}
