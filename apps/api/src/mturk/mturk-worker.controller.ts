import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeEndpoint, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentUser, Principal, Public, Roles } from '@tally/auth';
import { MturkFramesService, SUBMITTED_PAGE } from '@tally/mturk';
import { ParseIdPipe } from '../common/validation';

class WorkerFrameDto {
  @ApiProperty({ enum: ['HTMLQuestion', 'ExternalQuestion'] }) kind: string;
  @ApiProperty({ description: 'put this in a sandboxed iframe (allow-scripts allow-forms); it carries assignmentId, hitId, workerId, turkSubmitTo' }) url: string;
  @ApiProperty({ description: 'the requester asked for this height in pixels (0 = let the page decide)' }) frameHeight: number;
  @ApiProperty({ description: 'where the page posts its form (turkSubmitTo + /mturk/externalSubmit)' }) submitUrl: string;
}

/**
 * The worker's side of MTurk HTMLQuestion / ExternalQuestion HITs: the frame to show, the HTML
 * page, and MTurk's externalSubmit (the form posts here, authorised by the token in turkSubmitTo).
 */
@ApiTags('mturk')
@Controller('mturk')
export class MturkWorkerController {
  constructor(private readonly frames: MturkFramesService) {}

  @Get('assignments/:id/frame')
  @Roles('worker')
  @ApiBearerAuth()
  @ApiOkResponse({ type: WorkerFrameDto })
  frame(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<WorkerFrameDto> {
    return this.frames.frameFor(me.id, id);
  }

  @Get('frame/:token')
  @Public()
  @ApiExcludeEndpoint()
  async page(@Param('token') token: string, @Res() res: Response): Promise<void> {
    const html = await this.frames.html(token);
    res.set(this.frames.headers('question')).status(200).send(html);
  }

  /** MTurk templates post (or get) their form to `${turkSubmitTo}/mturk/externalSubmit`. */
  @Post('submit/:token/mturk/externalSubmit')
  @Public()
  @HttpCode(200)
  @ApiExcludeEndpoint()
  async submitPost(@Param('token') token: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    await this.frames.submit(token, formFields(new URLSearchParams(raw)));
    res.set(this.frames.headers('submitted')).status(200).send(SUBMITTED_PAGE);
  }

  @Get('submit/:token/mturk/externalSubmit')
  @Public()
  @ApiExcludeEndpoint()
  async submitGet(@Param('token') token: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.frames.submit(token, formFields(new URLSearchParams(req.originalUrl.split('?')[1] ?? '')));
    res.set(this.frames.headers('submitted')).status(200).send(SUBMITTED_PAGE);
  }
}

/** Repeated fields (checkboxes) become lists, as MTurk joins them with "|" in the answer XML. */
function formFields(p: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k of new Set(p.keys())) {
    const all = p.getAll(k);
    out[k] = all.length > 1 ? all : all[0];
  }
  return out;
}
