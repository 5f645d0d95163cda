import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { QualityAdminService } from '@tally/quality';
import { PageQuery } from '../admin/admin-users.controller';
import { CreateQualificationDto, GrantDto } from './quality.dto';
import { ParseIdPipe } from '../common/validation';

const caller = (me: Principal) => ({ id: me.id, admin: me.roles.includes('admin') });

/**
 * Named qualifications. Admins create, grant and revoke any; a requester creates their own and
 * grants or revokes them to workers of their campaigns (named by pseudonym). Campaigns require
 * them through qualification.requiredQualifications (names).
 */
@ApiTags('quality')
@ApiBearerAuth()
@Roles('requester', 'admin')
@Controller('qualifications')
export class QualificationsController {
  constructor(private readonly admin: QualityAdminService) {}

  @Post()
  create(@CurrentUser() me: Principal, @Body() dto: CreateQualificationDto) {
    return this.admin.createQualification(caller(me), dto.name, dto.description ?? '');
  }

  @Get()
  list(@Query() q: PageQuery) {
    return this.admin.listQualifications(q);
  }

  @Post(':id/grants')
  @HttpCode(200)
  async grant(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Body() dto: GrantDto) {
    return { granted: true, ...(await this.admin.grant(caller(me), id, dto)) };
  }

  @Post(':id/revocations')
  @HttpCode(200)
  async revoke(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Body() dto: GrantDto) {
    await this.admin.revoke(caller(me), id, dto);
    return { revoked: true };
  }
}
