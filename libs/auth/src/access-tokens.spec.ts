import { VerifiedTokens } from './access-tokens';

describe('VerifiedTokens', () => {
  const alice = { id: 'a', email: 'a@x.io', roles: ['worker' as const] };
  afterEach(() => jest.useRealTimers());

  it('answers a verified token until its exp (expired once now >= exp), then forgets it', () => {
    jest.useFakeTimers({ now: 1_000_000 * 1000 });
    const tokens = new VerifiedTokens();
    tokens.remember('tok', alice, { exp: 1_000_010 });
    expect(tokens.get('tok')).toEqual(alice);
    expect(tokens.get('tok ')).toBeUndefined(); // only the exact text
    jest.setSystemTime(1_000_009_999);
    expect(tokens.get('tok')).toEqual(alice);
    jest.setSystemTime(1_000_010_000);
    expect(tokens.get('tok')).toBeUndefined();
    jest.setSystemTime(1_000_000_000);
    expect(tokens.get('tok')).toBeUndefined(); // forgotten, not revived by a clock step back
  });

  it('never remembers a token without exp or with nbf ahead', () => {
    jest.useFakeTimers({ now: 1_000_000 * 1000 });
    const tokens = new VerifiedTokens();
    tokens.remember('no-exp', alice, {});
    tokens.remember('not-yet', alice, { exp: 1_000_100, nbf: 1_000_050 });
    expect(tokens.get('no-exp')).toBeUndefined();
    expect(tokens.get('not-yet')).toBeUndefined();
  });
});
