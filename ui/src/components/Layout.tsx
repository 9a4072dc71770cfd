import { Suspense } from "react";
import { NavLink, Outlet, useNavigate } from "react-router-dom";
import { FolderKanban, History, KeyRound, LogOut, PanelLeftClose, PanelLeftOpen, Plus, Workflow } from "lucide-react";
import { Loading } from "./ui";
import { useAuth } from "./auth";
import { ToastProvider } from "./toast";
import { useCollapsible } from "../lib/collapsible";

const NAV = [
  { to: "/projects", label: "Projects", icon: FolderKanban, end: true },
  { to: "/workflows", label: "Workflows", icon: Workflow, end: true },
  { to: "/workflows/new", label: "New workflow", icon: Plus, end: false },
  { to: "/runs", label: "Runs", icon: History, end: false },
  { to: "/api-keys", label: "API keys", icon: KeyRound, end: false },
];

export function Layout() {
  const { user, signOut } = useAuth();
  const navigate = useNavigate();
  const [collapsed, toggle] = useCollapsible("runloom.sidebar", "(max-width: 999px)");
  return (
    <ToastProvider>
      <div className={`app-shell${collapsed ? " sidebar-collapsed" : ""}`}>
        <aside className="sidebar" aria-label="Main navigation" data-collapsed={collapsed ? "true" : "false"}>
          <div className="brand">
            <img src="/favicon.svg" alt="" width={26} height={26} />
            <span className="sidebar-label">runloom</span>
          </div>
          <button
            type="button"
            className="sidebar-toggle"
            aria-expanded={!collapsed}
            aria-controls="main-nav"
            aria-label="Sidebar"
            title={collapsed ? "Expand the sidebar" : "Collapse the sidebar"}
            onClick={toggle}
          >
            {collapsed ? <PanelLeftOpen size={18} aria-hidden /> : <PanelLeftClose size={18} aria-hidden />}
          </button>
          <nav id="main-nav">
            {NAV.map(({ to, label, icon: Icon, end }) => (
              <NavLink key={to} to={to} end={end} title={collapsed ? label : undefined}>
                <Icon size={17} aria-hidden className="nav-icon" />
                <span className="sidebar-label">{label}</span>
              </NavLink>
            ))}
          </nav>
          <div className="sidebar-footer">
            <div className="muted small sidebar-label" title={user?.email}>
              {user?.email}
            </div>
            <button
              type="button"
              className="btn btn-ghost btn-small"
              title={collapsed ? "Sign out" : undefined}
              onClick={() => {
                signOut({ expired: false });
                navigate("/login");
              }}
            >
              <LogOut size={15} aria-hidden />
              <span className="sidebar-label">Sign out</span>
            </button>
          </div>
        </aside>
        <main className="content">
          <Suspense fallback={<Loading what="page" />}>
            <Outlet />
          </Suspense>
        </main>
      </div>
    </ToastProvider>
  );
}
