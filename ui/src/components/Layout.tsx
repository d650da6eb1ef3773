import { NavLink, Outlet } from "react-router-dom";
import { useTheme } from "../hooks/useTheme";

export function Layout() {
  const [theme, toggle] = useTheme();
  return (
    <div className="app">
      <header className="topbar">
        <NavLink to="/experiments" className="brand">
          Wayline
        </NavLink>
        <nav>
          <NavLink to="/experiments">Experiments</NavLink>
          <NavLink to="/models">Models</NavLink>
        </nav>
        <span className="spacer" />
        <a href="/docs" target="_blank" rel="noreferrer">
          API
        </a>
        <button
          type="button"
          className="theme-toggle"
          onClick={toggle}
          aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}
          data-testid="theme-toggle"
        >
          {theme === "dark" ? "☀ Light" : "☾ Dark"}
        </button>
      </header>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}
