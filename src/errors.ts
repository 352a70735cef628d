/**
 * Configuration errors. Every message names the field, the value received and what is accepted,
 * so a researcher can fix a sweep without reading our source.
 */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    readonly received: unknown,
    readonly accepted: string,
  ) {
    super(`${field}: received ${show(received)}; accepted: ${accepted}`);
    this.name = 'ConfigError';
  }
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v == null) return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** Reject anything but a finite number in [min, max] (inclusive unless stated). */
export function requireNumber(
  field: string,
  v: unknown,
  opts: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean } = {},
): number {
  const { min, max, integer, exclusiveMin } = opts;
  const kind = integer ? 'an integer' : 'a finite number';
  const range =
    (min !== undefined ? ` ${exclusiveMin ? '>' : '>='} ${min}` : '') +
    (min !== undefined && max !== undefined ? ' and' : '') +
    (max !== undefined ? ` <= ${max}` : '');
  const accepted = kind + range;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(field, v, accepted);
  if (integer && !Number.isInteger(v)) throw new ConfigError(field, v, accepted);
  if (min !== undefined && (exclusiveMin ? v <= min : v < min)) throw new ConfigError(field, v, accepted);
  if (max !== undefined && v > max) throw new ConfigError(field, v, accepted);
  return v;
}

/** Reject anything that is not one of the listed strings. */
export function requireOneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(field, v, allowed.map((a) => `'${a}'`).join(' | '));
  }
  return v as T;
}
