import { useState, type FormEvent } from "react";
import { useCreateProject } from "../api/hooks";
import type { Project } from "../api/types";
import { Modal } from "./ui";

export function NewProjectDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (p: Project) => void }) {
  const create = useCreateProject();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      { name: name.trim(), description: description.trim() || undefined },
      { onSuccess: (p) => onCreated(p) },
    );
  };
  return (
    <Modal title="New project" onClose={onClose}>
      <form onSubmit={submit} className="form">
        <p className="muted small">
          A project groups workflows and gets its own worker and Temporal task queue.
        </p>
        <label className="field">
          <span>Project name</span>
          <input required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="field">
          <span>Description</span>
          <textarea rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        {create.isError && (
          <p className="text-error" role="alert">
            {create.error.message}
          </p>
        )}
        <div className="form-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={create.isPending || !name.trim()}>
            {create.isPending ? "Creating…" : "Create project"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
