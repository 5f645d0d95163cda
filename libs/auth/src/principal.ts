import type { Role } from '@tally/users';

/** The authenticated caller, as carried by the access token. */
export interface Principal {
  id: string;
  email: string;
  roles: Role[];
}

export interface AccessTokenClaims {
  sub: string;
  email: string;
  roles: Role[];
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}
