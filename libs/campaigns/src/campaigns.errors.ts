import { conflict, DomainError, invalidField, notFound, unprocessable } from '@tally/common';
import type { CampaignStatus } from './entities/campaign.entity';

/** Campaign errors. The API's one filter maps their kinds to HTTP; codes are stable. */
export const CampaignErrors = {
  /** Also for someone else's campaign: a requester must not learn which ids exist. */
  notFound: () => notFound('CAMPAIGN_NOT_FOUND', 'Campaign not found'),
  statusConflict: (current: CampaignStatus, action: string) =>
    conflict('CAMPAIGN_STATUS_CONFLICT', `Cannot ${action} a campaign that is ${current}`, { status: current }),
  hasNoItems: () => unprocessable('CAMPAIGN_HAS_NO_ITEMS', 'A campaign needs at least one item before it can be published'),
  goldWithoutPrelabel: (n: number) =>
    unprocessable(
      'CAMPAIGN_GOLD_WITHOUT_PRELABEL',
      `${n} gold item(s) have no prelabel, but the campaign shows model suggestions (modelLabels: suggest): workers could tell them from real items. Import them again with a prelabel, remove them, or set modelLabels to off or annotator`,
      { goldWithoutPrelabel: n },
    ),
  deadlinePassed: () => unprocessable('CAMPAIGN_DEADLINE_PASSED', 'The campaign deadline has passed; move it before publishing'),
  /** Items were validated against the task type and labels they were imported under. */
  hasItems: (what: string) =>
    conflict('CAMPAIGN_HAS_ITEMS', `${what} cannot change once items are imported: they were validated against the current settings`),
  invalid: (field: string, problem: string) => invalidField(field, problem, 'CAMPAIGN_INVALID'),
};

export const ImportErrors = {
  unknownFormat: (got: string) =>
    invalidField('format', `unknown import format "${got}"; use json, jsonl or csv (or Content-Type application/json, application/x-ndjson, text/csv)`, 'IMPORT_FORMAT_UNKNOWN'),
  tooLarge: (limitBytes: number) =>
    new DomainError('IMPORT_TOO_LARGE', 'unprocessable', `The upload is larger than the ${Math.round(limitBytes / 1024 / 1024)} MB import limit; split the file`),
  /** The file's structure is broken (unclosed quote, truncated array): no row boundary after it can be trusted. */
  malformed: (line: number, problem: string) =>
    new DomainError('IMPORT_FILE_MALFORMED', 'unprocessable', `line ${line}: ${problem}`, { line }),
  /** ?strict=true and at least one row was bad: nothing was imported. */
  rejected: (report: object) => unprocessable('IMPORT_REJECTED', 'Strict import: the file has bad rows, so nothing was imported', { report }),
};
