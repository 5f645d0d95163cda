import { Module } from '@nestjs/common';
import { LedgerReportsService } from './ledger-reports.service';
import { LedgerService } from './ledger.service';

/**
 * The journal and its money movements. No entities: the ledger speaks SQL on the caller's
 * EntityManager so every movement joins the caller's transaction. Needs the global config.
 */
@Module({
  providers: [LedgerService, LedgerReportsService],
  exports: [LedgerService, LedgerReportsService],
})
export class LedgerModule {}
