import { escrowFor, platformFee } from './money';

describe('platform fee and escrow arithmetic', () => {
  it.each([
    [0, 2000, 0],
    [1, 2000, 1], // ceil(0.2): a non-zero reward always carries at least one minor unit
    [5, 2000, 1],
    [10, 2000, 2],
    [11, 2000, 3], // ceil(2.2)
    [99, 1500, 15], // ceil(14.85)
    [100, 0, 0],
    [100, 10000, 100],
  ])('fee(%i, %i bps) = %i', (amount, bps, fee) => expect(platformFee(amount, bps)).toBe(fee));

  it('escrow is slots × (reward + fee) exactly, so approvals drain it to zero', () => {
    expect(escrowFor(10, 12, 2000)).toEqual({ perSlot: 12, fee: 2, total: 144 });
    expect(escrowFor(0, 50, 2000)).toEqual({ perSlot: 0, fee: 0, total: 0 });
  });

  it('never rounds silently beyond 2^53', () => {
    expect(() => escrowFor(Number.MAX_SAFE_INTEGER, 2, 2000)).toThrow(/largest supported/);
    expect(() => platformFee(1.5, 2000)).toThrow();
    expect(() => platformFee(-1, 2000)).toThrow();
  });
});
