// ESM loader hook (see record-loads.mjs): one line per loaded module URL.
import { appendFileSync } from 'node:fs';

export async function load(url, context, next) {
  appendFileSync(process.env.GEOMSTREAM_LOAD_LOG, `${url}\n`);
  return next(url, context);
}
