import { Link } from "react-router-dom";
import { useProject } from "../api/hooks";

/** The breadcrumb of a project: its name, linking to it ("Project" only until it loads). */
export function ProjectCrumb({ projectId }: { projectId: string }) {
  const project = useProject(projectId, false);
  return <Link to={`/projects/${projectId}`}>{project.data?.name ?? "Project"}</Link>;
}
