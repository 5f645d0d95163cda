import { Controller, Get, Inject, Injectable, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Public } from '@tally/auth';
import { DomainError, safeFetch } from '@tally/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';

const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

/**
 * Item images reach browsers through Tally, never straight from the requester's host: a worker's
 * address is not leaked to it, the page's Content-Security-Policy can stay `img-src 'self'`, and the
 * server fetches only URLs it signed itself (an HMAC in the path, so the proxy is not an open one)
 * and only from public addresses (libs/common safe-url: pinned DNS answer, redirects re-checked).
 */
@Injectable()
export class ImageLinks {
  private readonly key: Buffer;

  constructor(@Inject(TALLY_CONFIG) private readonly config: TallyConfig) {
    this.key = createHash('sha256').update(`tally-image-proxy:${config.jwtSecret}`).digest();
  }

  sign(url: string): string {
    return createHmac('sha256', this.key).update(url).digest('base64url').slice(0, 32);
  }

  /** The same-origin path that serves a payload's imageUrl, or undefined when it has none. */
  src(payload: Record<string, unknown> | null | undefined): string | undefined {
    const url = payload?.imageUrl;
    if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) return undefined;
    return `/api/images/${this.sign(url)}?url=${encodeURIComponent(url)}`;
  }

  verify(signature: string, url: string): boolean {
    const expected = Buffer.from(this.sign(url));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  get allowHosts(): readonly string[] {
    return this.config.imageProxyAllowHosts;
  }
}

@ApiTags('media')
@Controller('images')
export class ImageProxyController {
  constructor(private readonly links: ImageLinks) {}

  /** Public (an <img> sends no bearer token): the signature is the permission. */
  @Public()
  @Get(':signature')
  @ApiQuery({ name: 'url', description: "the item's imageUrl, exactly as in the signed link (`imageSrc` in task responses)" })
  @ApiOkResponse({ description: 'the image bytes (image/* only, at most 10 MB)' })
  async image(@Param('signature') signature: string, @Query('url') url: unknown, @Res() res: Response): Promise<void> {
    if (typeof url !== 'string' || !url) throw new DomainError('VALIDATION_FAILED', 'invalid', 'url: is required', { fields: [{ field: 'url', problem: 'is required' }] });
    if (!this.links.verify(signature, url)) throw new DomainError('BAD_SIGNATURE', 'forbidden', 'signature: this link was not issued by Tally for that url');
    let upstream;
    try {
      upstream = await safeFetch(url, { allowHosts: this.links.allowHosts, maxBytes: MAX_IMAGE_BYTES, timeoutMs: 10_000, headers: { accept: 'image/*' } });
    } catch (err) {
      if (err instanceof DomainError) throw err;
      throw new DomainError('IMAGE_UNREACHABLE', 'unprocessable', `url: the image host did not answer (${(err as Error).message})`);
    }
    const type = String(upstream.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (upstream.status !== 200) throw new DomainError('IMAGE_UNAVAILABLE', 'unprocessable', `url: the image host answered ${upstream.status}`);
    if (!/^image\/[\w.+-]+$/.test(type)) throw new DomainError('NOT_AN_IMAGE', 'unprocessable', `url: the host sent ${type || 'no content type'}, not an image`);
    res
      .status(200)
      .set({
        'Content-Type': type,
        'Content-Length': String(upstream.body.length),
        'Cache-Control': 'private, max-age=3600',
        'X-Content-Type-Options': 'nosniff',
        // An SVG opened directly must not run script on our origin.
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
      })
      .end(upstream.body);
  }
}
