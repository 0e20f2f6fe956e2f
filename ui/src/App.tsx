import { useEffect, useState } from "react";
import { forgetKey, storedKey } from "./api";
import { KeyForm } from "./pages/KeyForm";
import { Builder } from "./pages/Builder";
import { Segments } from "./pages/Segments";

// Pages are addressed by the URL's fragment (#/segments), so the server serves one
// page and a reload keeps the place.
function useRoute(): string {
  const [route, setRoute] = useState(window.location.hash.slice(1) || "/segments");
  useEffect(() => {
    const changed = () => setRoute(window.location.hash.slice(1) || "/segments");
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return route;
}

export function App() {
  const [key, setKey] = useState(storedKey());
  const route = useRoute();
  if (!key) return <KeyForm onKey={() => setKey(storedKey())} />;
  return (
    <>
      <header className="top">
        <a className="brand" href="#/segments">
          segmint
        </a>
        <nav aria-label="Pages">
          <a href="#/segments" aria-current={route.startsWith("/segments") ? "page" : undefined}>
            Segments
          </a>
          <a href="#/new" aria-current={route === "/new" ? "page" : undefined}>
            New segment
          </a>
        </nav>
        <button
          type="button"
          className="link"
          onClick={() => {
            forgetKey();
            setKey(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        {route.startsWith("/segments") ? <Segments /> : route === "/new" ? <Builder /> : <p>Unknown page.</p>}
      </main>
    </>
  );
}
