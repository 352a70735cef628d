/**
 * The one error type for anything a caller passed that geomstream cannot take: an option, a
 * matrix, a pipeline, a file's contents. Every message names the field, the value received and
 * what is accepted, so a researcher can fix a sweep without reading our source. The other errors
 * are not about input: a failed write keeps Node's `code` (ENOSPC…), and a broken install (a
 * missing .wasm, no tfjs backend) says how to repair it.
 */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    readonly received: unknown,
    readonly accepted: string,
    /** The message as first written, when this one is rebuilt from another thread's (PortableError). */
    message = `${field}: received ${show(received)}; accepted: ${accepted}`,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * An error as it crosses a thread boundary (structured clone drops the class): a ConfigError keeps
 * its field, value and accepted set, so a worker's validation error reaches the caller as one.
 */
export interface PortableError {
  message: string;
  config?: { field: string; received: unknown; accepted: string };
}

/** The portable form of anything thrown. */
export function toPortableError(e: unknown): PortableError {
  if (e instanceof ConfigError) {
    let received: unknown;
    try {
      received = structuredClone(e.received);
    } catch {
      received = show(e.received);
    }
    return { message: e.message, config: { field: e.field, received, accepted: e.accepted } };
  }
  return { message: e instanceof Error ? e.message : String(e) };
}

/** Back to an Error: a ConfigError (with its message as written) when it was one, else a plain Error with the message. */
export function fromPortableError(p: PortableError): Error {
  if (p.config) return new ConfigError(p.config.field, p.config.received, p.config.accepted, p.message);
  return new Error(p.message);
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v == null) return String(v);
  try {
    // JSON.stringify gives undefined for functions and symbols.
    return JSON.stringify(v) ?? String(v);
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
