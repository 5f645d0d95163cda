/** Parses `--name value` and `--flag` pairs; repeated flags keep the last value. */
export function parseFlags(argv: string[]): Record<string, string | undefined> & { _: string } {
  const out: Record<string, string | undefined> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [k, inline] = a.slice(2).split('=', 2);
      if (inline !== undefined) out[k] = inline;
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[k] = argv[++i];
      else out[k] = 'true';
    } else positional.push(a);
  }
  return Object.assign(out, { _: positional.join(' ') });
}
