import { Controller, HttpCode, Logger, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { Public } from '@tally/auth';
import { MturkAccessKeysService, MturkError, MturkErrors, MturkRequesterService, SigV4Error, toMturkError } from '@tally/mturk';

export const MTURK_TARGET_PREFIX = 'MTurkRequesterServiceV20170117.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

/**
 * Mechanical Turk's requester API, wire-compatible: point an AWS SDK (boto3, @aws-sdk/client-mturk)
 * at `https://<tally>/api/mturk` with keys from POST /api/mturk/keys. One POST endpoint; the
 * operation is in X-Amz-Target. The body arrives as raw bytes (bootstrap.ts RAW_BODY) because the
 * SigV4 signature covers its hash. Not behind Tally's JWT: the signature is the authentication.
 */
@ApiTags('mturk')
@Controller('mturk')
export class MturkController {
  private readonly log = new Logger('MturkApi');

  constructor(
    private readonly keys: MturkAccessKeysService,
    private readonly requester: MturkRequesterService,
  ) {}

  @Post()
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'MTurk requester API (AWS JSON 1.1 protocol, SigV4 service "mturk-requester", any region)',
    description: 'Operations and mapping: docs/mturk.md. Errors: {"__type":"RequestError"|"ServiceFault","Message","TurkErrorCode"}.',
  })
  @ApiHeader({ name: 'X-Amz-Target', required: true, example: 'MTurkRequesterServiceV20170117.GetAccountBalance' })
  @ApiHeader({ name: 'Authorization', required: true, description: 'AWS4-HMAC-SHA256 Credential=<AccessKeyId>/<date>/<region>/mturk-requester/aws4_request, ...' })
  @ApiConsumes(CONTENT_TYPE)
  @ApiBody({ schema: { type: 'object', example: {} } })
  async rpc(@Req() req: Request, @Res() res: Response): Promise<void> {
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    res.setHeader('content-type', CONTENT_TYPE);
    try {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const [path, query = ''] = req.originalUrl.split('?', 2);
      const { ownerId } = await this.keys.authenticate({ method: req.method, path, query, headers: req.headers, body });
      const target = String(req.headers['x-amz-target'] ?? '');
      if (!target.startsWith(MTURK_TARGET_PREFIX)) throw MturkErrors.unknownOperation(target);
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.')) throw MturkErrors.badContentType();
      let input: unknown;
      try {
        input = body.length ? JSON.parse(body.toString('utf8')) : {};
      } catch {
        throw new MturkError('SerializationException', 'The request body is not valid JSON');
      }
      if (!input || typeof input !== 'object' || Array.isArray(input)) throw new MturkError('SerializationException', 'The request body must be a JSON object');
      const out = await this.requester.execute(ownerId, target.slice(MTURK_TARGET_PREFIX.length), input as Record<string, unknown>);
      res.status(200).send(JSON.stringify(out));
    } catch (err) {
      this.fail(res, err, requestId);
    }
  }

  private fail(res: Response, err: unknown, requestId: string): void {
    if (err instanceof SigV4Error) {
      res.setHeader('x-amzn-ErrorType', `${err.type}:`);
      res.status(err.type === 'MissingAuthenticationTokenException' ? 403 : 400).send(JSON.stringify({ __type: err.type, message: err.message }));
      return;
    }
    const mapped = toMturkError(err);
    if (mapped instanceof MturkError) {
      res.status(mapped.httpStatus).send(JSON.stringify(mapped.toBody()));
      return;
    }
    this.log.error(`MTurk API error ${requestId}: ${(err as Error)?.stack ?? String(err)}`);
    const fault = MturkErrors.serviceFault(requestId);
    res.status(fault.httpStatus).send(JSON.stringify(fault.toBody()));
  }
}
