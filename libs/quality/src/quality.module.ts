import { Global, Module } from '@nestjs/common';
import { QUALITY_HOOKS } from '@tally/work';
import { QualityAdminService } from './quality-admin.service';
import { QualityControlService } from './quality-control.service';
import { ReestimateService } from './reestimate.service';
import { ReliabilityService } from './reliability.service';
import { ResultsService } from './results.service';

const SERVICES = [QualityControlService, ReestimateService, ReliabilityService, QualityAdminService, ResultsService];

/**
 * Quality control. Global so that libs/work's claim and submit paths find QUALITY_HOOKS without
 * importing this module (libs/quality depends on libs/work, not the other way round). Needs
 * TypeORM, AuditModule and config; uses JobsModule's registry when there is one.
 */
@Global()
@Module({
  providers: [...SERVICES, { provide: QUALITY_HOOKS, useExisting: QualityControlService }],
  exports: [...SERVICES, QUALITY_HOOKS],
})
export class QualityModule {}
