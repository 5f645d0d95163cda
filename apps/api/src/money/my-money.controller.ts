import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { LedgerReportsService } from '@tally/ledger';
import { GrantBonusUseCase, PayoutsService } from '@tally/payments';
import { BonusDto, OnboardDto, PayoutsQuery, statementCsv, StatementQuery, toPayoutDto, toTransactionDto, TransactionDto } from './money.dto';

/** The caller's own money: balances, statement, bonuses they grant, their payouts. */
@ApiTags('money')
@ApiBearerAuth()
@Controller()
export class MyMoneyController {
  constructor(
    private readonly reports: LedgerReportsService,
    private readonly payouts: PayoutsService,
    private readonly bonuses: GrantBonusUseCase,
  ) {}

  /** Requester: cash available and escrow on hold; worker: payable and in transit. Per currency. */
  @Get('me/balance')
  async balance(@CurrentUser() me: Principal) {
    const [own, held] = await Promise.all([this.reports.ownerBalances(me.id), this.reports.escrowOnHold(me.id)]);
    const currencies = [...new Set([...own.map((b) => b.currency), ...held.map((h) => h.currency)])].sort();
    const of = (kind: string, c: string) => own.find((b) => b.kind === kind && b.currency === c)?.balance ?? 0;
    return {
      balances: currencies.map((c) => ({
        currency: c,
        availableMinor: of('requester_cash', c),
        escrowMinor: held.find((h) => h.currency === c)?.balance ?? 0,
        payableMinor: of('worker_payable', c),
        inTransitMinor: of('payouts_in_transit', c),
      })),
    };
  }

  @Get('me/statement')
  async statement(@CurrentUser() me: Principal, @Query() q: StatementQuery, @Res({ passthrough: true }) res: Response) {
    const lines = await this.reports.statement(me.id, { currency: q.currency });
    if (q.format === 'csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', 'attachment; filename="tally-statement.csv"');
      return statementCsv(lines);
    }
    return { items: lines };
  }

  @Post('bonuses')
  @Roles('requester')
  @ApiOkResponse({ type: TransactionDto })
  async bonus(@CurrentUser() me: Principal, @Body() dto: BonusDto): Promise<TransactionDto> {
    const r = await this.bonuses.execute({ requesterId: me.id, campaignId: dto.campaignId, workerId: dto.workerId, amountMinor: dto.amountMinor, reason: dto.reason, idempotencyKey: dto.idempotencyKey });
    return toTransactionDto(r.transaction);
  }

  /** Worker onboarding to Stripe Connect: the Express account (once) and a fresh onboarding link. */
  @Post('payouts/account')
  @Roles('worker')
  @HttpCode(200)
  onboard(@CurrentUser() me: Principal, @Body() dto: OnboardDto) {
    return this.payouts.onboard(me.id, { returnUrl: dto.returnUrl, refreshUrl: dto.refreshUrl });
  }

  @Get('payouts')
  @Roles('worker')
  async myPayouts(@CurrentUser() me: Principal, @Query() q: PayoutsQuery) {
    const page = await this.payouts.list({ userId: me.id, status: q.status, limit: q.limit, offset: q.offset });
    return { ...page, items: page.items.map(toPayoutDto) };
  }
}
