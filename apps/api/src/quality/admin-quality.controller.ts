import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { QualityAdminService, ReestimateService, ReliabilityService } from '@tally/quality';
import { PageQuery } from '../admin/admin-users.controller';
import { AdminFlagsQueryDto, AdminLogQueryDto, CampaignBlockDto, ReasonDto } from './quality.dto';
import { ParseIdPipe } from '../common/validation';

/** Admin: every worker's reliability, rule logs and flags of all campaigns, campaign blocks. */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin')
export class AdminQualityController {
  constructor(
    private readonly admin: QualityAdminService,
    private readonly reliability: ReliabilityService,
    private readonly reestimate: ReestimateService,
  ) {}

  @Get('reliability')
  all(@Query() q: PageQuery) {
    return this.reliability.adminList(q);
  }

  @Get('campaigns/:id/workers')
  async campaignWorkers(@Param('id', ParseIdPipe) id: string) {
    return { items: await this.reliability.forAdminCampaign(id) };
  }

  @Get('quality/rule-log')
  ruleLog(@CurrentUser() me: Principal, @Query() q: AdminLogQueryDto) {
    return this.admin.ruleLog({ id: me.id, admin: true }, q);
  }

  @Get('quality/flags')
  flags(@CurrentUser() me: Principal, @Query() q: AdminFlagsQueryDto) {
    return this.admin.flags({ id: me.id, admin: true }, q);
  }

  @Post('quality/flags/:flagId/resolve')
  @HttpCode(200)
  async resolve(@CurrentUser() me: Principal, @Param('flagId', ParseIdPipe) flagId: string, @Body() dto: ReasonDto) {
    await this.admin.resolveFlag(me.id, flagId, dto.reason);
    return { resolved: true };
  }

  /** Blocks a worker from one campaign: their answers are excluded and affected tasks reopened. */
  @Post('campaigns/:id/blocks')
  @HttpCode(200)
  async block(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Body() dto: CampaignBlockDto) {
    return { blocked: await this.admin.block(me.id, id, dto.workerId, dto.reason) };
  }

  @Post('campaigns/:id/blocks/:workerId/unblock')
  @HttpCode(200)
  async unblock(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Param('workerId', ParseIdPipe) workerId: string, @Body() dto: ReasonDto) {
    await this.admin.unblock(me.id, id, workerId, dto.reason);
    return { unblocked: true };
  }

  /** One pass of the quality job now (due gold rejections, re-estimation of campaigns with new answers). */
  @Post('quality/run')
  @HttpCode(200)
  run() {
    return this.reestimate.runOnce();
  }
}
