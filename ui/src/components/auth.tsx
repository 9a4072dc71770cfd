import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { clearSession, getStoredUser, getToken, setSession } from "../api/client";
import type { AuthResponse, User } from "../api/types";

interface AuthState {
  user: User | null;
  signedIn: boolean;
  signIn: (r: AuthResponse) => void;
  signOut: () => void;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const [user, setUser] = useState<User | null>(() => (getToken() ? getStoredUser() : null));
  const signIn = useCallback((r: AuthResponse) => {
    setSession(r.access_token, r.user);
    setUser(r.user);
  }, []);
  const signOut = useCallback(() => {
    clearSession();
    setUser(null);
    qc.clear();
  }, [qc]);
  const value = useMemo(
    () => ({ user, signedIn: Boolean(user && getToken()), signIn, signOut }),
    [user, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth outside AuthProvider");
  return ctx;
}
