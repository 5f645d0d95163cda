import { ImportErrors } from '../campaigns.errors';

export const IMPORT_FORMATS = ['json', 'jsonl', 'csv'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

const BY_MEDIA_TYPE: Record<string, ImportFormat> = {
  'application/json': 'json',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/x-jsonlines': 'jsonl',
  'application/jsonlines': 'jsonl',
  'text/csv': 'csv',
};

/** `?format=` wins over Content-Type (curl sends form-urlencoded unless told otherwise). */
export function resolveImportFormat(contentType: string | undefined, format: string | undefined): ImportFormat {
  if (format) {
    const f = format.toLowerCase() === 'ndjson' ? 'jsonl' : format.toLowerCase();
    if ((IMPORT_FORMATS as readonly string[]).includes(f)) return f as ImportFormat;
    throw ImportErrors.unknownFormat(format);
  }
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const f = BY_MEDIA_TYPE[media];
  if (!f) throw ImportErrors.unknownFormat(media || '(no Content-Type)');
  return f;
}
