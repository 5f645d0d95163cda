import { MarketplaceCore1764320000000 } from './1764320000000-marketplace-core';
import { Ledger1764330000000 } from './1764330000000-ledger';

/** Every migration, in order. Listed, not globbed, so builds, bundles and Jest see the same set. */
export const MIGRATIONS = [MarketplaceCore1764320000000, Ledger1764330000000];
