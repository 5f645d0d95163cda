import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '@tally/auth';
import { CampaignsService } from '@tally/campaigns';
import { AdminCampaignQuery } from './campaign.dto';
import { AdminCampaignDetailDto, AdminCampaignPageDto } from './campaign-response.dto';
import { toAdminCampaignDetailDto, toAdminCampaignDto } from './campaign.mapper';
import { ParseIdPipe } from '../common/validation';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/campaigns')
export class AdminCampaignsController {
  constructor(private readonly campaigns: CampaignsService) {}

  @Get()
  @ApiOkResponse({ type: AdminCampaignPageDto, description: 'every campaign; search by name (q), owner id or email (owner), status' })
  async search(@Query() q: AdminCampaignQuery): Promise<AdminCampaignPageDto> {
    const page = await this.campaigns.search({ q: q.q, ownerId: q.ownerId, ownerEmail: q.owner, status: q.status, limit: q.limit, offset: q.offset });
    return { ...page, items: page.items.map(toAdminCampaignDto) };
  }

  @Get(':id')
  @ApiOkResponse({ type: AdminCampaignDetailDto })
  async get(@Param('id', ParseIdPipe) id: string): Promise<AdminCampaignDetailDto> {
    const { progress, ...c } = await this.campaigns.inspect(id);
    return toAdminCampaignDetailDto(c, progress);
  }
}
