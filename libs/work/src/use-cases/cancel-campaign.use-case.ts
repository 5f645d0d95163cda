import { Injectable } from '@nestjs/common';
import { CampaignEntity, CampaignsService } from '@tally/campaigns';
import { releaseCampaignClaims } from './expire-leases.use-case';

/**
 * A requester cancels a campaign: in ONE transaction the status becomes `cancelled`, every live
 * claim is given back (the claims become `expired`, their slots freed), and the escrow goes back
 * to the owner's cash except one slot per answer still awaiting review (it may yet be approved
 * and paid). @tally/campaigns owns the status change and cannot import this lib (work depends on
 * campaigns), so the claim release rides in as a transition hook.
 */
@Injectable()
export class CancelCampaignUseCase {
  constructor(private readonly campaigns: CampaignsService) {}

  execute(ownerId: string, campaignId: string): Promise<CampaignEntity> {
    return this.campaigns.transition(ownerId, campaignId, 'cancel', { within: (em, c) => releaseCampaignClaims(em, c.id) });
  }
}
