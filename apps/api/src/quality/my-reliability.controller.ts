import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { ReliabilityService } from '@tally/quality';

/** A worker's own reliability: global figures and one entry per campaign they worked on. */
@ApiTags('quality')
@ApiBearerAuth()
@Roles('worker')
@Controller('me')
export class MyReliabilityController {
  constructor(private readonly reliability: ReliabilityService) {}

  @Get('reliability')
  mine(@CurrentUser() me: Principal) {
    return this.reliability.forWorker(me.id);
  }
}
