import { Suspense } from "react";
import { NavLink, Outlet, useNavigate } from "react-router-dom";
import { Loading } from "./ui";
import { useAuth } from "./auth";

export function Layout() {
  const { user, signOut } = useAuth();
  const navigate = useNavigate();
  return (
    <div className="app-shell">
      <aside className="sidebar" aria-label="Main navigation">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={26} height={26} />
          <span>runloom</span>
        </div>
        <nav>
          <NavLink to="/projects" end>
            Projects
          </NavLink>
          <NavLink to="/workflows" end>
            Workflows
          </NavLink>
          <NavLink to="/workflows/new">New workflow</NavLink>
          <NavLink to="/runs">Runs</NavLink>
          <NavLink to="/api-keys">API keys</NavLink>
        </nav>
        <div className="sidebar-footer">
          <div className="muted small" title={user?.email}>
            {user?.email}
          </div>
          <button
            type="button"
            className="btn btn-ghost btn-small"
            onClick={() => {
              signOut({ expired: false });
              navigate("/login");
            }}
          >
            Sign out
          </button>
        </div>
      </aside>
      <main className="content">
        <Suspense fallback={<Loading what="page" />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
