import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router-dom";
import { request } from "../api/client";
import type { AuthResponse } from "../api/types";
import { useAuth } from "../components/auth";

export function AuthPage({ mode }: { mode: "login" | "signup" }) {
  const { signIn, signedIn } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const next = params.get("next");
  const target = next && next.startsWith("/") && !next.startsWith("//") ? next : "/projects";
  if (signedIn) return <Navigate to={target} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (mode === "signup" && password.length < 8) {
      setError("Choose a password of at least 8 characters.");
      return;
    }
    setBusy(true);
    try {
      const r = await request<AuthResponse>(`/api/auth/${mode}`, {
        method: "POST",
        body: { email, password },
        anonymous: true,
      });
      signIn(r);
      navigate(target, { replace: true });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const title = mode === "login" ? "Sign in to runloom" : "Create your runloom account";
  return (
    <div className="auth-page">
      <form className="auth-card card" onSubmit={submit} aria-label={title}>
        <div className="brand brand-large">
          <img src="/favicon.svg" alt="" width={34} height={34} />
          <span>runloom</span>
        </div>
        <h1>{title}</h1>
        {params.get("expired") && <p className="notice" role="status">Your session has ended. Sign in again.</p>}
        <label className="field">
          <span>Email</span>
          <input
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            type="password"
            autoComplete={mode === "login" ? "current-password" : "new-password"}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="text-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? "Please wait…" : mode === "login" ? "Sign in" : "Sign up"}
        </button>
        <p className="muted small center">
          {mode === "login" ? (
            <>
              No account yet? <Link to={`/signup${next ? `?next=${encodeURIComponent(next)}` : ""}`}>Sign up</Link>
            </>
          ) : (
            <>
              Already have an account? <Link to={`/login${next ? `?next=${encodeURIComponent(next)}` : ""}`}>Sign in</Link>
            </>
          )}
        </p>
      </form>
    </div>
  );
}
