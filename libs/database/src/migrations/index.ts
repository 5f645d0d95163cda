import { MarketplaceCore1764320000000 } from './1764320000000-marketplace-core';
import { Ledger1764330000000 } from './1764330000000-ledger';
import { Quality1764340000000 } from './1764340000000-quality';
import { Mturk1764350000000 } from './1764350000000-mturk';
import { Webhooks1764360000000 } from './1764360000000-webhooks';
import { ModelLabels1764370000000 } from './1764370000000-model-labels';

/** Every migration, in order. Listed, not globbed, so builds, bundles and Jest see the same set. */
export const MIGRATIONS = [MarketplaceCore1764320000000, Ledger1764330000000, Quality1764340000000, Mturk1764350000000, Webhooks1764360000000, ModelLabels1764370000000];
