/**
 * Pipeline parameters: what a pipeline lets its user change without editing it
 * (`definePipeline({ params: { … defaults … } })`, `geomstream run … --set name=value`). Each
 * parameter's type is its default's: a number, a string, a boolean, or a list of numbers or of
 * strings (written `0,0.1,0.2` on the command line). Values are checked before anything is built.
 */
import { ConfigError } from './errors.js';

export type ParamValue = number | string | boolean | number[] | string[];
export type Params = Record<string, ParamValue>;

/** The kind of a parameter, from its default. */
export function paramType(v: ParamValue): 'number' | 'string' | 'boolean' | 'number[]' | 'string[]' {
  if (Array.isArray(v)) return v.every((x) => typeof x === 'number') ? 'number[]' : 'string[]';
  return typeof v as 'number' | 'string' | 'boolean';
}

const ACCEPTED = {
  number: 'a finite number',
  string: 'a string',
  boolean: 'true or false',
  'number[]': 'finite numbers separated by commas, e.g. 0,0.1,0.2',
  'string[]': 'names separated by commas, e.g. tanh,relu',
} as const;

/** Parse one `--set` value as the type of `def`; a ConfigError names the parameter. */
export function parseParam(name: string, text: string, def: ParamValue): ParamValue {
  const type = paramType(def);
  const fail = () => {
    throw new ConfigError(`set ${name}`, text, ACCEPTED[type]);
  };
  const num = (s: string) => {
    const n = Number(s.trim());
    if (s.trim() === '' || !Number.isFinite(n)) fail();
    return n;
  };
  switch (type) {
    case 'number':
      return num(text);
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : fail()!;
    case 'string':
      return text;
    case 'number[]':
      return text.trim() === '' ? [] : text.split(',').map(num);
    case 'string[]': {
      const list = text.split(',').map((s) => s.trim());
      if (list.some((s) => !s)) fail();
      return list;
    }
  }
}

/**
 * The parameters of a run: the defaults with `sets` (name → text, from `--set name=value`) in
 * their place. An unknown name is rejected, listing the accepted ones.
 */
export function resolveParams(defaults: Params, sets: Record<string, string> = {}): Params {
  const out: Params = { ...defaults };
  for (const [name, text] of Object.entries(sets)) {
    if (!Object.hasOwn(defaults, name)) {
      const names = Object.keys(defaults);
      throw new ConfigError(
        'set',
        name,
        names.length
          ? `a parameter of this pipeline: ${names.join(', ')} (--list-params shows them)`
          : 'nothing: this pipeline declares no parameters',
      );
    }
    out[name] = parseParam(name, text, defaults[name]);
  }
  return out;
}

/** The parameters as lines "name  type  default" for --list-params. */
export function formatParams(defaults: Params): string {
  const rows = Object.entries(defaults).map(([k, v]) => [k, paramType(v), Array.isArray(v) ? v.join(',') : String(v)]);
  if (!rows.length) return '(this pipeline declares no parameters)';
  const w = [0, 1].map((i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2]}`).join('\n');
}
