import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { CampaignsService } from '@tally/campaigns';
import { CancelCampaignUseCase } from '@tally/work';
import { CampaignListQuery, CreateCampaignDto, UpdateCampaignDto } from './campaign.dto';
import { CampaignDto, CampaignPageDto, CampaignProgressDto } from './campaign-response.dto';
import { toCampaignDto, toCampaignPatch, toListFilter, toNewCampaign, toProgressDto } from './campaign.mapper';
import { ParseIdPipe } from '../common/validation';

/**
 * A requester's own campaigns. Someone else's campaign is a 404 (ids are not confirmed to
 * strangers); a caller without the requester role gets a 403.
 */
@ApiTags('campaigns')
@ApiBearerAuth()
@Roles('requester')
@ApiNotFoundResponse({ description: 'CAMPAIGN_NOT_FOUND: no such campaign among yours' })
@Controller('campaigns')
export class CampaignsController {
  constructor(
    private readonly campaigns: CampaignsService,
    private readonly cancelCampaign: CancelCampaignUseCase,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: CampaignDto, description: 'created as a draft' })
  async create(@CurrentUser() me: Principal, @Body() dto: CreateCampaignDto): Promise<CampaignDto> {
    return toCampaignDto(await this.campaigns.create(me.id, toNewCampaign(dto)));
  }

  @Get()
  @ApiOkResponse({ type: CampaignPageDto })
  async list(@CurrentUser() me: Principal, @Query() q: CampaignListQuery): Promise<CampaignPageDto> {
    const page = await this.campaigns.listOwned(me.id, toListFilter(q));
    return { ...page, items: page.items.map(toCampaignDto) };
  }

  @Get(':id')
  @ApiOkResponse({ type: CampaignDto })
  async get(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<CampaignDto> {
    return toCampaignDto(await this.campaigns.findOwned(me.id, id));
  }

  @Patch(':id')
  @ApiOkResponse({ type: CampaignDto })
  @ApiConflictResponse({ description: 'CAMPAIGN_STATUS_CONFLICT: only a draft can be edited; CAMPAIGN_HAS_ITEMS' })
  async update(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Body() dto: UpdateCampaignDto): Promise<CampaignDto> {
    return toCampaignDto(await this.campaigns.update(me.id, id, toCampaignPatch(dto)));
  }

  @Get(':id/progress')
  @ApiOkResponse({ type: CampaignProgressDto })
  async progress(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<CampaignProgressDto> {
    return toProgressDto(await this.campaigns.progressOwned(me.id, id));
  }

  @Post(':id/publish')
  @HttpCode(200)
  @ApiOkResponse({
    type: CampaignDto,
    description:
      'draft → published; needs at least one item (422 CAMPAIGN_HAS_NO_ITEMS). Reserves reward × redundancyMax × items × (1 + platform fee) ' +
      "from the requester's cash into the campaign's escrow in the same transaction: 422 INSUFFICIENT_FUNDS naming the shortfall, and nothing changes.",
  })
  @ApiConflictResponse({ description: 'CAMPAIGN_STATUS_CONFLICT, naming the current status' })
  async publish(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<CampaignDto> {
    return toCampaignDto(await this.campaigns.transition(me.id, id, 'publish'));
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOkResponse({ type: CampaignDto, description: 'published → paused: no new claims' })
  @ApiConflictResponse({ description: 'CAMPAIGN_STATUS_CONFLICT' })
  async pause(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<CampaignDto> {
    return toCampaignDto(await this.campaigns.transition(me.id, id, 'pause'));
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiOkResponse({ type: CampaignDto, description: 'paused → published' })
  @ApiConflictResponse({ description: 'CAMPAIGN_STATUS_CONFLICT' })
  async resume(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<CampaignDto> {
    return toCampaignDto(await this.campaigns.transition(me.id, id, 'resume'));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOkResponse({
    type: CampaignDto,
    description: 'draft / published / paused → cancelled (final). Live claims are released and the escrow returns to cash, except one slot per answer awaiting review.',
  })
  @ApiConflictResponse({ description: 'CAMPAIGN_STATUS_CONFLICT' })
  async cancel(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<CampaignDto> {
    return toCampaignDto(await this.cancelCampaign.execute(me.id, id));
  }
}
