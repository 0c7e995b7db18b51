// Value rules shared by the argv parser and the JSON validator: turning a raw flag string into a typed value,
// checking a typed value against its FieldSpec, and describing the rule in words for error messages and help.
// Tested through libs/config/src/*.test.ts (`node tools/run-tests.mjs libs/config`).
import type { FieldSpec } from './fields';

/** One-line, flag-naming error for anything wrong in a configuration (argv or JSON). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

// Plain decimal or scientific notation only: Number() would also accept '', ' ', '0x10' and 'Infinity'.
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The rule in words, completing "<flag> must be ...". */
export function describeRule(spec: FieldSpec): string {
  const range = (kind: string): string => {
    const { min, max } = spec;
    if (min === 0 && spec.minExclusive && max === undefined) return `a positive ${kind}`;
    if (min === 1 && !spec.minExclusive && max === undefined && kind === 'integer') return 'a positive integer';
    if (min === 0 && !spec.minExclusive && max === undefined) return `a non-negative ${kind}`;
    if (min === undefined && max === undefined) return `a${kind === 'integer' ? 'n' : ''} ${kind}`;
    const lo = min === undefined ? '(-inf' : `${spec.minExclusive ? '(' : '['}${min}`;
    const hi = max === undefined ? 'inf)' : `${max}${spec.maxExclusive ? ')' : ']'}`;
    return `a${kind === 'integer' ? 'n' : ''} ${kind} in ${lo}, ${hi}`;
  };
  switch (spec.type) {
    case 'int':
      return range('integer');
    case 'number':
      return range('number');
    case 'enum':
      return `one of ${(spec.values ?? []).join('|')}`;
    case 'boolean':
      return 'true or false';
    case 'string':
      return spec.nullable ? 'a non-empty string or null' : 'a non-empty string';
  }
}

/** True when an already-typed value (from JSON or after parsing) satisfies the spec. */
export function isValid(spec: FieldSpec, value: unknown): boolean {
  switch (spec.type) {
    case 'int':
    case 'number': {
      if (value === null && spec.nullable === true) return true;
      if (typeof value !== 'number' || !Number.isFinite(value)) return false;
      if (spec.type === 'int' && !Number.isSafeInteger(value)) return false;
      if (spec.min !== undefined && (spec.minExclusive ? value <= spec.min : value < spec.min)) return false;
      if (spec.max !== undefined && (spec.maxExclusive ? value >= spec.max : value > spec.max)) return false;
      return true;
    }
    case 'enum':
      return (spec.values ?? []).includes(value as string | number);
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return (typeof value === 'string' && value.length > 0) || (value === null && spec.nullable === true);
  }
}

/** Parses a raw command-line string; returns undefined when it does not satisfy the spec. */
export function parseRaw(spec: FieldSpec, raw: string): unknown {
  let value: unknown;
  switch (spec.type) {
    case 'int':
    case 'number':
      value = NUMERIC.test(raw) ? Number(raw) : undefined;
      break;
    case 'enum': {
      const numeric = (spec.values ?? []).some((v) => typeof v === 'number');
      value = numeric ? (NUMERIC.test(raw) ? Number(raw) : undefined) : raw;
      break;
    }
    case 'boolean':
      value = raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : undefined;
      break;
    case 'string':
      value = raw;
      break;
  }
  return value !== undefined && isValid(spec, value) ? value : undefined;
}

/** Levenshtein distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The closest candidate within a small edit distance (or a prefix match), else undefined. */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(input, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  const limit = Math.max(2, Math.floor(input.length / 3));
  if (best !== undefined && bestD <= limit) return best;
  const prefixed = candidates.filter((c) => c.startsWith(input) || input.startsWith(c));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
