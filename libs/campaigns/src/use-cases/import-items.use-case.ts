import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '@tally/audit';
import { LedgerService } from '@tally/ledger';
import { CampaignErrors, ImportErrors } from '../campaigns.errors';
import { requireOwner } from '../campaigns.service';
import { IMPORTABLE_STATUSES } from '../campaign-settings';
import { CampaignEntity } from '../entities/campaign.entity';
import { ImportRowError, ItemImportEntity } from '../entities/item-import.entity';
import { ImportFormat, resolveImportFormat } from '../import/import-format';
import { ImportItem, RowResult, toImportItem } from '../import/item-rows';
import { limitBytes, parseItems } from '../import/item-parsers';

/** Largest upload accepted (bytes). */
export const MAX_IMPORT_BYTES = 200 * 1024 * 1024;
/** The report lists at most this many problems; `rejected` still counts every bad row. */
export const MAX_REPORTED_ERRORS = 1000;
/** Rows per multi-row INSERT, and a byte cap so a batch of huge payloads stays reasonable. */
export const BATCH_ROWS = 1000;
const BATCH_CHARS = 8 * 1024 * 1024;

export interface ImportItemsInput {
  ownerId: string;
  campaignId: string;
  /** The request's Content-Type; `format` wins when both are given. */
  contentType?: string;
  format?: string;
  /** Reject the whole file (422, nothing imported) if any row is bad. */
  strict: boolean;
  /** The raw upload, read once, as it arrives. */
  body: AsyncIterable<Buffer | string>;
  /** Declared size, if any: refused up front when above the limit. */
  contentLength?: number;
}

export interface ImportReport {
  importId: string;
  format: ImportFormat;
  strict: boolean;
  rows: number;
  inserted: number;
  duplicates: number;
  rejected: number;
  errors: ImportRowError[];
  /** True when more problems were found than `errors` lists. */
  errorsTruncated: boolean;
  durationMs: number;
  rowsPerSecond: number;
}

class StrictRejection extends Error {
  constructor(readonly report: Omit<ImportReport, 'importId'>) {
    super('strict import rejected');
  }
}

/**
 * Bulk item import. THE RULE: good rows are imported and bad rows are reported by line number,
 * all in ONE transaction — every good row or none (a database failure, a malformed file or a
 * dropped upload rolls everything back; an import is never half-written). With `strict`, any
 * bad row rejects the whole file (422 with the report) and nothing is imported. Exact duplicates
 * (same canonical payload, within the file or already in the campaign) are skipped and counted,
 * not errors.
 *
 * The upload is parsed as it streams in and inserted in batches inside that transaction, so
 * memory stays bounded by a batch, not the file. The cost: the transaction stays open while the
 * client uploads (on the embedded PGlite, whose transactions run one at a time, other writes wait
 * for it), and the campaign row is share-locked so it cannot be cancelled or edited mid-import.
 * Importing into a published or paused campaign reserves the new items' escrow in the same
 * transaction (not enough funds → 422 INSUFFICIENT_FUNDS, nothing imported).
 */
@Injectable()
export class ImportItemsUseCase {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly ledger: LedgerService,
  ) {}

  async execute(input: ImportItemsInput): Promise<ImportReport> {
    requireOwner(input.ownerId);
    const started = performance.now();
    const format = resolveImportFormat(input.contentType, input.format);
    if (input.contentLength !== undefined && input.contentLength > MAX_IMPORT_BYTES) throw ImportErrors.tooLarge(MAX_IMPORT_BYTES);
    try {
      // Not inTransaction(): its deadlock retry would re-run the work, and the upload can be read only once.
      return await this.ds.transaction((em) => this.run(em, input, format, started));
    } catch (err) {
      if (err instanceof StrictRejection) {
        // The rows were rolled back; the report of the refused file is still worth keeping.
        const saved = await this.ds.getRepository(ItemImportEntity).save(this.entity(input.campaignId, err.report));
        throw ImportErrors.rejected({ importId: saved.id, ...err.report });
      }
      throw err;
    }
  }

  private async run(em: EntityManager, input: ImportItemsInput, format: ImportFormat, started: number): Promise<ImportReport> {
    // FOR SHARE: concurrent imports proceed together, but a status change waits for this one.
    const campaign = await em.findOne(CampaignEntity, {
      where: { id: input.campaignId, ownerId: input.ownerId },
      lock: { mode: 'pessimistic_read' },
    });
    if (!campaign) throw CampaignErrors.notFound();
    if (!IMPORTABLE_STATUSES.includes(campaign.status)) throw CampaignErrors.statusConflict(campaign.status, 'import items into');
    const rules = { taskType: campaign.taskType, labels: campaign.labels, maxTextLength: campaign.maxTextLength };

    const errors: ImportRowError[] = [];
    let problems = 0;
    let rows = 0;
    let inserted = 0;
    let duplicates = 0;
    let rejected = 0;
    const seen = new Set<string>();
    let batch: ImportItem[] = [];
    let batchChars = 0;
    const report = (line: number, field: string | undefined, problem: string) => {
      problems++;
      if (errors.length < MAX_REPORTED_ERRORS) errors.push(field ? { line, field, problem } : { line, problem });
    };
    const flush = async () => {
      if (!batch.length) return;
      const n = await insertBatch(em, campaign, batch);
      inserted += n;
      duplicates += batch.length - n; // already in the campaign (an earlier import, or a concurrent one)
      batch = [];
      batchChars = 0;
    };

    // Stopping early (malformed file, strict failure, database error) must not destroy the request:
    // that would reset the connection before the client reads our answer. Node's HTTP server
    // discards whatever is left of an unread body once the response is sent.
    const body = input.body instanceof Readable ? input.body.iterator({ destroyOnReturn: false }) : input.body;
    const source = limitBytes(body, MAX_IMPORT_BYTES, () => ImportErrors.tooLarge(MAX_IMPORT_BYTES));
    for await (const row of parseItems(format, source)) {
      rows++;
      if (row.problem !== undefined) {
        rejected++;
        report(row.line, row.field, row.problem);
        continue;
      }
      const r = goldLooksReal(campaign, toImportItem(rules, row));
      if (!r.ok) {
        rejected++;
        for (const p of r.problems) report(row.line, p.field, p.problem);
        continue;
      }
      if (seen.has(r.item.hash)) {
        duplicates++;
        continue;
      }
      seen.add(r.item.hash);
      // Strict and already failing: keep reading for a full report, but stop writing rows that will be rolled back.
      if (input.strict && rejected) continue;
      batch.push(r.item);
      batchChars += JSON.stringify(r.item.payload).length;
      if (batch.length >= BATCH_ROWS || batchChars >= BATCH_CHARS) await flush();
    }

    const durationMs = Math.max(1, Math.round(performance.now() - started));
    const summary = {
      format,
      strict: input.strict,
      rows,
      inserted,
      duplicates,
      rejected,
      errors,
      errorsTruncated: problems > errors.length,
      durationMs,
      rowsPerSecond: Math.round((rows * 1000) / durationMs),
    };
    if (input.strict && rejected) throw new StrictRejection({ ...summary, inserted: 0, duplicates: 0 });
    await flush();
    // Items added to a campaign that is already out (published / paused) are paid for like the
    // first ones: their escrow is reserved in this transaction, and a requester who cannot cover
    // it gets a 422 INSUFFICIENT_FUNDS naming the shortfall with nothing imported. (A draft's
    // items are reserved when it is published.) Concurrent imports serialise on the escrow row.
    if (inserted > 0 && campaign.status !== 'draft') await this.ledger.reserveEscrow(em, campaign, { actorId: input.ownerId });
    summary.inserted = inserted;
    summary.duplicates = duplicates;
    summary.durationMs = Math.max(1, Math.round(performance.now() - started));
    summary.rowsPerSecond = Math.round((rows * 1000) / summary.durationMs);
    const saved = await em.save(this.entity(campaign.id, summary));
    await this.audit.record(
      { actorId: input.ownerId, action: 'campaign.items_imported', objectType: 'campaign', objectId: campaign.id, data: { importId: saved.id, inserted, rows } },
      em,
    );
    return { importId: saved.id, ...summary };
  }

  private entity(campaignId: string, r: Omit<ImportReport, 'importId'>): ItemImportEntity {
    return Object.assign(new ItemImportEntity(), {
      campaignId,
      format: r.format,
      rows: r.rows,
      inserted: r.inserted,
      duplicates: r.duplicates,
      rejected: r.rejected,
      errors: r.errors,
      durationMs: r.durationMs,
    });
  }
}

/**
 * One multi-row INSERT of a batch: six parallel arrays unnested server-side (6 parameters
 * instead of 6 per row). ON CONFLICT skips payloads the campaign already has; the count of
 * rows actually written comes back.
 */
async function insertBatch(em: EntityManager, c: CampaignEntity, batch: ImportItem[]): Promise<number> {
  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
  const [row] = await em.query(
    `WITH ins AS (
       INSERT INTO tasks (campaign_id, payload, content_hash, gold, prelabel, prelabel_model, prelabel_confidence, needed)
       SELECT $1, r.payload::jsonb, r.hash, r.gold::jsonb, r.prelabel::jsonb, r.model, r.confidence, $2
         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::double precision[]) AS r(payload, hash, gold, prelabel, model, confidence)
       ON CONFLICT (campaign_id, content_hash) DO NOTHING
       RETURNING 1
     )
     SELECT count(*)::int AS n FROM ins`,
    [c.id, c.redundancyMin, batch.map((i) => JSON.stringify(i.payload)), batch.map((i) => i.hash), batch.map((i) => json(i.gold)), batch.map((i) => json(i.prelabel)), batch.map((i) => i.prelabelModel), batch.map((i) => i.prelabelConfidence)],
  );
  return row.n;
}

/**
 * Hidden gold must look like real work. A campaign that shows model suggestions (modelLabels
 * `suggest`) shows one on every pre-labelled task, so a gold item without a pre-label would stand
 * out by its missing suggestion: such a row is refused, naming the field.
 */
function goldLooksReal(campaign: Pick<CampaignEntity, 'modelLabels'>, r: RowResult): RowResult {
  if (!r.ok || campaign.modelLabels !== 'suggest') return r;
  if (r.item.gold === null || r.item.gold === undefined || (r.item.prelabel !== null && r.item.prelabel !== undefined)) return r;
  return { ok: false, problems: [{ field: 'prelabel', problem: GOLD_NEEDS_PRELABEL }] };
}

const GOLD_NEEDS_PRELABEL =
  'a gold item needs a prelabel when the campaign shows model suggestions (modelLabels: suggest); without one, workers could tell it from real items';
