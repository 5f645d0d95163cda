import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Answer, GoldLabel } from '../crowd';

/**
 * The shared public data sets: TALLY_DATASETS, else ../shared/datasets beside the repository
 * (the layout of the working tree and of CI's fresh clone). Test helper, not exported.
 */
export const DATASETS_DIR = process.env.TALLY_DATASETS ?? resolve(__dirname, '../../../../../shared/datasets');

export const CATEGORICAL_SETS = ['adult', 'bluebirds', 'cf', 'dog', 'face', 'possent', 'product', 'relevance', 'rte', 'sp', 'wsd'] as const;

export function datasetsAvailable(): boolean {
  return existsSync(resolve(DATASETS_DIR, 'wsd/answers.csv'));
}

/** Simple reader for the shared files (no quoted fields in them). */
function rows(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .slice(1)
    .filter((l) => l.length > 0)
    .map((l) => l.split(','));
}

export function loadDataset(name: string): { answers: Answer[]; gold: GoldLabel[] } {
  const answers = rows(resolve(DATASETS_DIR, name, 'answers.csv')).map(([task, worker, label]) => ({ task, worker, label }));
  const gold = rows(resolve(DATASETS_DIR, name, 'gold.csv')).map(([task, label]) => ({ task, label }));
  return { answers, gold };
}
