/**
 * Backend selection (docs/architecture.md): `tensorflow` (@tensorflow/tfjs-node) when it is installed
 * and loads, else `wasm` (@tensorflow/tfjs-backend-wasm), else `cpu`. `--backend` or the
 * GEOMSTREAM_BACKEND environment variable overrides; an explicit choice that cannot load is an error.
 *
 * tfjs-node is an optional peer dependency: its install step downloads libtensorflow, which fails
 * without internet, so `npm install` never pulls it in.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

const loaders: Record<BackendName, () => Promise<void>> = {
  // A variable specifier keeps TypeScript from requiring the optional package at compile time.
  tensorflow: async () => {
    const name = '@tensorflow/tfjs-node';
    await import(name);
  },
  wasm: async () => {
    await import('@tensorflow/tfjs-backend-wasm');
  },
  cpu: async () => {
    await import('@tensorflow/tfjs-backend-cpu');
  },
};

let active: Promise<BackendName> | null = null;
let activeRequest: string | undefined;

async function tryBackend(name: BackendName): Promise<boolean> {
  try {
    await loaders[name]();
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

async function select(requested: string | undefined): Promise<BackendName> {
  if (requested && requested !== 'auto') {
    if (!(BACKENDS as readonly string[]).includes(requested)) {
      throw new ConfigError('backend', requested, `'auto', ${BACKENDS.map((b) => `'${b}'`).join(', ')}`);
    }
    if (!(await tryBackend(requested as BackendName))) {
      const hint =
        requested === 'tensorflow'
          ? ' (install it with `npm install @tensorflow/tfjs-node`, which needs internet access to download libtensorflow)'
          : '';
      throw new ConfigError('backend', requested, `a backend that loads on this machine${hint}`);
    }
    await tf.ready();
    return requested as BackendName;
  }
  for (const name of BACKENDS) {
    if (await tryBackend(name)) {
      await tf.ready();
      return name;
    }
  }
  throw new Error('backend: no TensorFlow.js backend could be loaded (tried tensorflow, wasm, cpu)');
}

/**
 * Initialise the tensor backend once per process and return its name. `requested` is 'auto'
 * (default: GEOMSTREAM_BACKEND, else the first of tensorflow, wasm, cpu that loads) or a name.
 */
export function initBackend(requested?: string): Promise<BackendName> {
  const want = requested ?? 'auto';
  if (active && want !== activeRequest && want !== 'auto') {
    return active.then((name) => {
      if (name !== want) throw new ConfigError('backend', want, `'${name}', the backend this process already runs`);
      return name;
    });
  }
  if (!active) {
    activeRequest = want;
    active = select(want);
    active.catch(() => {
      active = null;
    });
  }
  return active;
}
