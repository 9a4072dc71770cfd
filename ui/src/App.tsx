import { Suspense, lazy, useLayoutEffect } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router-dom";
import { setUnauthorizedHandler } from "./api/client";
import { useAuth } from "./components/auth";
import { Layout } from "./components/Layout";
import { ApiKeysPage } from "./pages/ApiKeysPage";
import { AuthPage } from "./pages/AuthPage";
import { NewWorkflowPage } from "./pages/NewWorkflowPage";
import { ProjectPage } from "./pages/ProjectPage";
import { ProjectsPage } from "./pages/ProjectsPage";
import { RunsPage } from "./pages/RunsPage";
import { VersionsPage } from "./pages/VersionsPage";
import { WorkflowsPage } from "./pages/WorkflowsPage";
import { Empty, Loading } from "./components/ui";
import { Link } from "react-router-dom";

// The canvas and the charts are the heavy parts: load them with the pages that use them.
const BuilderPage = lazy(() => import("./pages/BuilderPage").then((m) => ({ default: m.BuilderPage })));
const StatsPage = lazy(() => import("./pages/StatsPage").then((m) => ({ default: m.StatsPage })));

function RequireAuth({ children }: { children: React.ReactNode }) {
  const { signedIn, expired } = useAuth();
  const location = useLocation();
  if (!signedIn) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}${expired ? "&expired=1" : ""}`} replace />;
  }
  return <>{children}</>;
}

export function App() {
  const { signOut } = useAuth();
  // A layout effect runs before the pages' passive effects start their first queries.
  // Signing out re-renders RequireAuth, which sends the user to the sign-in page.
  useLayoutEffect(() => {
    setUnauthorizedHandler(() => signOut({ expired: true }));
  }, [signOut]);
  return (
    <Routes>
      <Route path="/login" element={<AuthPage mode="login" />} />
      <Route path="/signup" element={<AuthPage mode="signup" />} />
      <Route
        element={
          <RequireAuth>
            <Suspense fallback={<Loading what="page" />}>
              <Layout />
            </Suspense>
          </RequireAuth>
        }
      >
        <Route path="/" element={<Navigate to="/projects" replace />} />
        <Route path="/projects" element={<ProjectsPage />} />
        <Route path="/projects/:projectId" element={<ProjectPage />} />
        <Route path="/projects/:projectId/stats" element={<StatsPage />} />
        <Route path="/workflows" element={<WorkflowsPage />} />
        <Route path="/workflows/new" element={<NewWorkflowPage />} />
        <Route path="/workflows/:workflowId" element={<BuilderPage />} />
        <Route path="/workflows/:workflowId/runs" element={<RunsPage />} />
        <Route path="/workflows/:workflowId/versions" element={<VersionsPage />} />
        <Route path="/runs" element={<RunsPage />} />
        <Route path="/api-keys" element={<ApiKeysPage />} />
        <Route
          path="*"
          element={
            <Empty title="Page not found">
              <p>
                There is nothing at this address. Go to <Link to="/projects">your projects</Link>.
              </p>
            </Empty>
          }
        />
      </Route>
    </Routes>
  );
}
