/**
 * Headless Chromium for the browser tests and the README screenshots: Debian's `chromium`
 * (`.ci/run` installs it with apt) driven by playwright-core, with no network of its own.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** The browser binary: GEOMSTREAM_CHROMIUM, else Debian's. */
export const CHROMIUM = process.env.GEOMSTREAM_CHROMIUM || '/usr/bin/chromium';

export const hasChromium = () => existsSync(CHROMIUM);

/** Launch it headless, with everything that would reach the network turned off. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
