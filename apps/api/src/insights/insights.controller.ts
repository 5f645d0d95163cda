import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { CampaignsService } from '@tally/campaigns';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { PayoutsService } from '@tally/payments';
import { UsersService } from '@tally/users';
import { AgreementAudit, CampaignInsights, CampaignInsightsService, WorkerQuality } from './campaign-insights.service';
import { ParseIdPipe } from '../common/validation';

export class PaymentOptionsDto {
  @ApiProperty({ description: 'true when STRIPE_SECRET_KEY is set: card top-ups (Checkout) and payouts (Connect) work' }) stripe: boolean;
}

export class PayoutAccountStatusDto {
  @ApiProperty() stripe: boolean;
  @ApiProperty({ description: 'a Stripe connected account exists for this worker' }) connected: boolean;
  @ApiProperty() transfersEnabled: boolean;
  @ApiProperty() detailsSubmitted: boolean;
}

/** The requester's charts for one of their campaigns; someone else's campaign is a 404. */
@ApiTags('campaigns')
@ApiBearerAuth()
@Roles('requester')
@ApiNotFoundResponse({ description: 'CAMPAIGN_NOT_FOUND: no such campaign among yours' })
@Controller('campaigns')
export class CampaignInsightsController {
  constructor(
    private readonly campaigns: CampaignsService,
    private readonly insights: CampaignInsightsService,
  ) {}

  @Get(':id/insights')
  @ApiOkResponse({ description: 'timeline (answers, completions, spend, agreement per hour or day), a pseudonymous worker table, label counts' })
  async get(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<CampaignInsights> {
    return this.insights.insights(await this.campaigns.findOwned(me.id, id));
  }
}

/** The admin's agreement audit of any campaign. */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/campaigns')
export class AdminAgreementController {
  constructor(
    private readonly campaigns: CampaignsService,
    private readonly insights: CampaignInsightsService,
  ) {}

  @Get(':id/agreement-audit')
  @ApiOkResponse({ description: "Krippendorff's alpha, Fleiss' kappa, percent agreement, the coincidence (confusion) matrix, the answer-vs-consensus matrix, the least agreed tasks" })
  async audit(@Param('id', ParseIdPipe) id: string): Promise<AgreementAudit> {
    return this.insights.agreementAudit(await this.campaigns.get(id));
  }
}

/** The admin's worker page: reliability, gold history, flags, rule log and campaign blocks in one call. */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/workers')
export class AdminWorkerQualityController {
  constructor(
    private readonly users: UsersService,
    private readonly insights: CampaignInsightsService,
  ) {}

  @Get(':id/quality')
  @ApiOkResponse({ description: 'global and per-campaign reliability, graded gold answers (right / wrong, never the gold), quality flags, the rule log and campaign blocks of one worker' })
  @ApiNotFoundResponse({ description: 'USER_NOT_FOUND' })
  async quality(@Param('id', ParseIdPipe) id: string): Promise<WorkerQuality> {
    await this.users.get(id);
    return this.insights.workerQuality(id);
  }
}

/** What the UI needs to know about payments on this server, and a worker's payout account state. */
@ApiTags('money')
@ApiBearerAuth()
@Controller()
export class PaymentOptionsController {
  constructor(
    @Inject(TALLY_CONFIG) private readonly config: TallyConfig,
    private readonly payouts: PayoutsService,
  ) {}

  @Get('funding/options')
  @ApiOkResponse({ type: PaymentOptionsDto })
  options(): PaymentOptionsDto {
    return { stripe: !!this.config.stripeSecretKey };
  }

  @Get('me/payout-account')
  @Roles('worker')
  @ApiOkResponse({ type: PayoutAccountStatusDto })
  async payoutAccount(@CurrentUser() me: Principal): Promise<PayoutAccountStatusDto> {
    const a = await this.payouts.payoutAccount(me.id);
    return { stripe: !!this.config.stripeSecretKey, connected: !!a, transfersEnabled: a?.transfersEnabled ?? false, detailsSubmitted: a?.detailsSubmitted ?? false };
  }
}
