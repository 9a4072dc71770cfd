import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { clearSession, getStoredUser, getToken, setSession } from "../api/client";
import type { AuthResponse, User } from "../api/types";

interface AuthState {
  user: User | null;
  signedIn: boolean;
  /** The server refused the session (401): the sign-in page says so. */
  expired: boolean;
  signIn: (r: AuthResponse) => void;
  signOut: (options?: { expired?: boolean }) => void;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const [user, setUser] = useState<User | null>(() => (getToken() ? getStoredUser() : null));
  const [expired, setExpired] = useState(false);
  const signIn = useCallback((r: AuthResponse) => {
    setSession(r.access_token, r.user);
    setUser(r.user);
    setExpired(false);
  }, []);
  const signOut = useCallback(
    (options?: { expired?: boolean }) => {
      clearSession();
      setUser(null);
      setExpired(Boolean(options?.expired));
      qc.clear();
    },
    [qc],
  );
  const value = useMemo(
    () => ({ user, signedIn: Boolean(user && getToken()), expired, signIn, signOut }),
    [user, expired, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth outside AuthProvider");
  return ctx;
}
