import { createContext, ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { api, refreshSession, session, Session, User } from './api';

interface AuthState {
  user: User | null;
  /** True until the stored refresh token has been tried at start-up. */
  loading: boolean;
  signIn(email: string, password: string): Promise<User>;
  signUp(input: { email: string; password: string; displayName: string; roles: ('requester' | 'worker')[] }): Promise<User>;
  signOut(): Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    session.onSignedOut(() => setUser(null));
    (async () => {
      try {
        if (session.refreshToken() && (await refreshSession())) setUser(await api<User>('/auth/me'));
      } catch {
        session.clear();
      } finally {
        setLoading(false);
      }
    })();
  }, []);

  const start = useCallback(async (s: Session) => {
    session.set(s);
    const u = s.user ?? (await api<User>('/auth/me'));
    setUser(u);
    return u;
  }, []);

  const value = useMemo<AuthState>(
    () => ({
      user,
      loading,
      signIn: async (email, password) => start(await api<Session>('/auth/login', { body: { email, password } })),
      signUp: async (input) => start(await api<Session>('/auth/signup', { body: input })),
      signOut: async () => {
        const rt = session.refreshToken();
        session.clear();
        setUser(null);
        if (rt) await api('/auth/logout', { body: { refreshToken: rt } }).catch(() => undefined);
      },
    }),
    [user, loading, start],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}

export const homeFor = (u: User | null) =>
  !u ? '/signin' : u.roles.includes('admin') ? '/admin' : u.roles.includes('requester') ? '/campaigns' : '/work';
