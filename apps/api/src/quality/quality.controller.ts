import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { CampaignReliability, csvCell, QualityAdminService, ReestimateService, ReliabilityService, ResultsService } from '@tally/quality';
import { FlagsQueryDto, LogQueryDto, QualityRulesDto, ResultsQueryDto, SampleQueryDto, WorkersQueryDto } from './quality.dto';
import { ParseIdPipe } from '../common/validation';

const CONTENT_TYPES = { json: 'application/json', jsonl: 'application/x-ndjson', csv: 'text/csv', coco: 'application/json', conll: 'text/plain' } as const;
const EXTENSIONS = { json: 'json', jsonl: 'jsonl', csv: 'csv', coco: 'coco.json', conll: 'conll' } as const;

/** A requester's quality controls on their own campaigns (anyone else's campaign is a 404). */
@ApiTags('quality')
@ApiBearerAuth()
@Roles('requester')
@Controller('campaigns/:id')
export class QualityController {
  constructor(
    private readonly admin: QualityAdminService,
    private readonly reliability: ReliabilityService,
    private readonly results: ResultsService,
    private readonly reestimate: ReestimateService,
  ) {}

  @Get('quality-rules')
  rules(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string) {
    return this.admin.getRules(me.id, id);
  }

  @Patch('quality-rules')
  setRules(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Body() dto: QualityRulesDto) {
    return this.admin.setRules(me.id, id, { ...dto } as Record<string, unknown>);
  }

  /** The campaign's workers under stable pseudonyms: gold accuracy (Wilson), agreement, DS skill, time, approval. */
  @Get('workers')
  @ApiProduces('application/json', 'text/csv')
  async workers(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Query() q: WorkersQueryDto, @Res({ passthrough: true }) res: Response) {
    const items = await this.reliability.forRequester(me.id, id);
    if (q.format !== 'csv') return { items };
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="workers-${id}.csv"`);
    return workersCsv(items);
  }

  /** Campaign figures: tasks, complete, low-confidence, mean confidence, answers, Krippendorff's alpha. */
  @Get('results/summary')
  async summary(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string) {
    await this.results.checkOwner(me.id, id);
    return this.results.summary(id);
  }

  /** Completed tasks to review, least confident first (or random), with their answers under pseudonyms. */
  @Get('review-sample')
  async sample(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Query() q: SampleQueryDto) {
    await this.results.checkOwner(me.id, id);
    return { items: await this.results.sample(id, q.order ?? 'lowest-confidence', q.limit ?? 20) };
  }

  @Get('rule-log')
  ruleLog(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Query() q: LogQueryDto) {
    return this.admin.ruleLog({ id: me.id, admin: false }, { campaignId: id, limit: q.limit, offset: q.offset });
  }

  @Get('flags')
  flags(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Query() q: FlagsQueryDto) {
    return this.admin.flags({ id: me.id, admin: false }, { campaignId: id, open: q.open, limit: q.limit, offset: q.offset });
  }

  /** Runs the campaign-wide Dawid-Skene re-estimation and the collusion check now. */
  @Post('quality/reestimate')
  @HttpCode(200)
  async reestimateNow(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string) {
    await this.reliability.ownedCampaign(me.id, id);
    return this.reestimate.reestimateCampaign(id);
  }

  /**
   * Per task: label, posterior, confidence, agreement, low-confidence flag, answer count. Streamed; never gold.
   * `format=coco` (box campaigns: images, categories, annotations with bbox [x,y,w,h] and score) and
   * `format=conll` (span campaigns: token TAB BIO-tag per line, a blank line between items) cover
   * completed tasks. The owner, or an admin.
   */
  @Get('results')
  @Roles('requester', 'admin')
  @ApiProduces('application/x-ndjson', 'application/json', 'text/csv', 'text/plain')
  @ApiOkResponse({ description: 'the results, streamed in the chosen format' })
  async export(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Query() q: ResultsQueryDto, @Res() res: Response): Promise<void> {
    const format = q.format ?? 'jsonl';
    await this.results.checkExport({ id: me.id, admin: me.roles.includes('admin') }, id, format);
    res.status(200);
    res.setHeader('Content-Type', `${CONTENT_TYPES[format]}; charset=utf-8`);
    res.setHeader('Content-Disposition', `attachment; filename="results-${id}.${EXTENSIONS[format]}"`);
    try {
      for await (const chunk of this.results.export(id, format, !!q.raw)) {
        if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      }
    } finally {
      res.end();
    }
  }
}

function workersCsv(items: CampaignReliability[]): string {
  const head = ['worker', 'answers', 'gold_n', 'gold_accuracy', 'gold_low', 'gold_high', 'agreement', 'ds_accuracy', 'ds_skill', 'median_seconds', 'approved', 'rejected', 'approval_rate', 'blocked'];
  const rows = items.map((r) =>
    [r.worker, r.answers, r.goldAccuracy.n, r.goldAccuracy.rate, r.goldAccuracy.low, r.goldAccuracy.high, r.consensusAgreement.rate, r.dawidSkene?.accuracy, r.dawidSkene?.skill, r.medianSeconds, r.approved, r.rejected, r.approvalRate, r.blocked ? r.blocked.reason : '']
      .map(csvCell)
      .join(','),
  );
  return [head.join(','), ...rows].join('\n') + '\n';
}
