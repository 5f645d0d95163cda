import { Controller, Get, Headers, Inject, NotFoundException, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@tally/auth';
import { DomainError } from '@tally/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { metricsAuthorized, metricsRegistry } from '@tally/metrics';

/**
 * Prometheus text format at GET /metrics (outside /api). With METRICS_TOKEN set it needs
 * `Authorization: Bearer <token>`; with METRICS_PORT set it is served on that port instead and
 * this route answers 404, so the public port does not expose it.
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(TALLY_CONFIG) private readonly config: TallyConfig) {}

  @Public()
  @Get()
  async metrics(@Headers('authorization') authorization: string | undefined, @Res() res: Response): Promise<void> {
    if (this.config.metricsPort > 0) throw new NotFoundException(`metrics are served on port ${this.config.metricsPort}`);
    if (!metricsAuthorized(this.config.metricsToken, authorization)) {
      throw new DomainError('UNAUTHENTICATED', 'unauthenticated', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
    }
    res.setHeader('content-type', metricsRegistry.contentType);
    res.send(await metricsRegistry.metrics());
  }
}
