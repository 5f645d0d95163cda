import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { LedgerReportsService } from '@tally/ledger';
import { FundingService, PayoutsService, ReconciliationService } from '@tally/payments';
import { ManualCreditDto, PayoutsQuery, statementCsv, StatementQuery, toPayoutDto, toTransactionDto, TransactionDto } from './money.dto';
import { ParseIdPipe } from '../common/validation';

/** The admin's view of the money: manual credits, trial balance, campaign stories, payouts, reconciliation. */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin')
export class AdminLedgerController {
  constructor(
    private readonly funding: FundingService,
    private readonly reports: LedgerReportsService,
    private readonly payouts: PayoutsService,
    private readonly reconciliation: ReconciliationService,
  ) {}

  /** Credits a user by hand (no Stripe needed), audited with the reason. */
  @Post('ledger/credits')
  @ApiOkResponse({ type: TransactionDto })
  async credit(@CurrentUser() me: Principal, @Body() dto: ManualCreditDto): Promise<TransactionDto> {
    const r = await this.funding.manualCredit({ adminId: me.id, userId: dto.userId, amountMinor: dto.amountMinor, currency: dto.currency, reason: dto.reason, account: dto.account, idempotencyKey: dto.idempotencyKey });
    return toTransactionDto(r.transaction);
  }

  @Get('ledger/trial-balance')
  trialBalance() {
    return this.reports.trialBalance();
  }

  @Get('ledger/campaigns/:id')
  campaign(@Param('id', ParseIdPipe) id: string) {
    return this.reports.campaignStory(id);
  }

  /** A user's statement: a worker's earnings and payouts, a requester's funding and spending. */
  @Get('ledger/users/:id/statement')
  async userStatement(@Param('id', ParseIdPipe) id: string, @Query() q: StatementQuery, @Res({ passthrough: true }) res: Response) {
    const lines = await this.reports.statement(id, { currency: q.currency });
    if (q.format === 'csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      return statementCsv(lines);
    }
    return { items: lines, balances: await this.reports.ownerBalances(id) };
  }

  @Get('payouts')
  async list(@Query() q: PayoutsQuery) {
    const page = await this.payouts.list(q);
    return { ...page, items: page.items.map(toPayoutDto) };
  }

  /** Runs the payout job now (the background sweep runs the same use case). */
  @Post('payouts/run')
  @HttpCode(200)
  run() {
    return this.payouts.runPayouts();
  }

  @Get('payouts/reconciliation')
  reconcile() {
    return this.reconciliation.reconcile();
  }
}
