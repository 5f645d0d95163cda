import { Controller, Get, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { CampaignItemsService, ImportItemsUseCase } from '@tally/campaigns';
import { PageQuery } from '../admin/admin-users.controller';
import { ImageLinks } from '../media/image-proxy';
import { ImportQuery, TaskListQuery } from './campaign.dto';
import { ImportPageDto, ImportReportDto, TaskPageDto } from './campaign-response.dto';
import { toImportInput, toImportReportDto, toStoredImportDto, toTaskDto } from './campaign.mapper';
import { ParseIdPipe } from '../common/validation';

@ApiTags('campaigns')
@ApiBearerAuth()
@Roles('requester')
@Controller('campaigns/:id')
export class CampaignItemsController {
  constructor(
    private readonly importItems: ImportItemsUseCase,
    private readonly items: CampaignItemsService,
    private readonly images: ImageLinks,
  ) {}

  /** The body is not parsed by the app (see STREAMED_BODY in bootstrap.ts): the use case streams it. */
  @Post('items')
  @ApiOperation({
    summary: 'Bulk-import items (JSON array, JSONL or CSV), streamed',
    description:
      'Allowed while the campaign is draft, published or paused. Rows are `{payload, gold?, prelabel?}` or flat (the row is the payload, ' +
      'plus optional gold/prelabel keys; CSV columns are payload fields, gold/prelabel cells hold JSON or a bare single-label). ' +
      'RULE: good rows are imported and bad rows reported by line number, in one transaction — all good rows or none, never half-written. ' +
      'Exact duplicate payloads (within the file or already in the campaign) are skipped and counted. ?strict=true rejects the whole ' +
      'file with 422 IMPORT_REJECTED if any row is bad. Up to 200 MB. Into a published or paused campaign, the new items\' escrow ' +
      '(reward × redundancyMax × (1 + fee) each) is reserved in the same transaction: 422 INSUFFICIENT_FUNDS naming the shortfall, nothing imported.',
  })
  @ApiConsumes('application/json', 'application/x-ndjson', 'application/jsonl', 'text/csv')
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiCreatedResponse({ type: ImportReportDto })
  @ApiUnprocessableEntityResponse({ description: 'IMPORT_REJECTED (strict, with `report`), IMPORT_FILE_MALFORMED, IMPORT_TOO_LARGE, INSUFFICIENT_FUNDS' })
  async import(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Query() q: ImportQuery, @Req() req: Request): Promise<ImportReportDto> {
    return toImportReportDto(await this.importItems.execute(toImportInput(me, id, q, req)));
  }

  @Get('imports')
  @ApiOkResponse({ type: ImportPageDto, description: 'import reports, newest first' })
  async imports(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Query() q: PageQuery): Promise<ImportPageDto> {
    const page = await this.items.listImports(me.id, id, q);
    return { ...page, items: page.items.map(toStoredImportDto) };
  }

  @Get('tasks')
  @ApiOkResponse({ type: TaskPageDto, description: 'the campaign’s items in import order, with gold, pre-labels and consensus' })
  async tasks(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Query() q: TaskListQuery): Promise<TaskPageDto> {
    const page = await this.items.listTasks(me.id, id, q);
    return { ...page, items: page.items.map((t) => ({ ...toTaskDto(t), imageSrc: this.images.src(t.payload) })) };
  }
}
