import { MarketplaceCore1764320000000 } from './1764320000000-marketplace-core';

/** Every migration, in order. Listed, not globbed, so builds, bundles and Jest see the same set. */
export const MIGRATIONS = [MarketplaceCore1764320000000];
