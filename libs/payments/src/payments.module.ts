import { Module } from '@nestjs/common';
import { LedgerModule } from '@tally/ledger';
import { GrantBonusUseCase } from './bonus.use-case';
import { FundingService } from './funding.service';
import { PayoutsJob } from './payouts.job';
import { PayoutsService } from './payouts.service';
import { ReconciliationService } from './reconciliation.service';
import { StripeGateway } from './stripe.gateway';
import { StripeWebhookService } from './stripe-webhook.service';

const PROVIDERS = [StripeGateway, FundingService, StripeWebhookService, PayoutsService, PayoutsJob, ReconciliationService, GrantBonusUseCase];

/** Money in and out through Stripe (or by hand), over the ledger. Needs TypeORM, config and the global AuditModule. */
@Module({
  imports: [LedgerModule],
  providers: PROVIDERS,
  exports: [...PROVIDERS, LedgerModule],
})
export class PaymentsModule {}
