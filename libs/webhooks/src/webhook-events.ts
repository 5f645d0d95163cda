import { EntityManager } from 'typeorm';

/** The events a requester can subscribe to. */
export const WEBHOOK_EVENT_TYPES = ['task.completed', 'campaign.completed', 'worker.blocked'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * The transactional outbox: call with the EntityManager of the transaction that makes the state
 * change (a task completing, a campaign completing, a worker blocked), so the event exists if and
 * only if the change committed. One statement: it inserts the event and one pending delivery per
 * live, active endpoint of the campaign's owner that wants this type (scoped to this campaign, to
 * all their campaigns, or to the MTurk HIT type the campaign holds HITs of). When no endpoint wants
 * it nothing is written, so the hot paths pay one indexed lookup. The background job
 * 'webhook-deliveries' sends them. `data` must hold only what the campaign's owner may see
 * (pseudonyms, never worker ids or gold). Returns the event id, or null when nobody listens.
 *
 * `query`: how to run the statement in `em`'s transaction, when the caller has a cheaper way than
 * `em.query` (the task-completion path runs it as a named prepared statement, libs/work `sql`).
 */
export async function recordWebhookEvent(
  em: EntityManager,
  type: WebhookEventType,
  campaignId: string,
  data: Record<string, unknown>,
  query: (text: string, params: unknown[]) => Promise<{ event_id: string }[]> = (text, params) => em.query(text, params),
): Promise<string | null> {
  const rows = await query(
    `WITH c AS (SELECT id, owner_id FROM campaigns WHERE id = $1),
     ep AS (
       SELECT e.id FROM webhook_endpoints e JOIN c ON c.owner_id = e.owner_id
        WHERE e.deleted_at IS NULL AND e.active AND $2 = ANY(e.events)
          AND (e.campaign_id = c.id
               OR (e.campaign_id IS NULL AND e.mturk_hit_type_id IS NULL)
               OR (e.mturk_hit_type_id IS NOT NULL AND EXISTS (
                     SELECT 1 FROM mturk_hit_campaigns m WHERE m.hit_type_id = e.mturk_hit_type_id AND m.campaign_id = c.id)))
     ),
     ev AS (
       INSERT INTO webhook_events (type, owner_id, campaign_id, data)
       SELECT $2, c.owner_id, c.id, $3::jsonb FROM c WHERE EXISTS (SELECT 1 FROM ep)
       RETURNING id
     )
     INSERT INTO webhook_deliveries (event_id, endpoint_id) SELECT ev.id, ep.id FROM ev CROSS JOIN ep RETURNING event_id`,
    [campaignId, type, JSON.stringify({ campaignId, ...data })],
  );
  return rows[0]?.event_id ?? null;
}
