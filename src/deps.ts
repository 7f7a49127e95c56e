/**
 * The one dependency object, built once in src/cli.ts. Heavy parts are lazy: `notify --help` opens no
 * database and loads no provider SDK.
 */
import type { Config } from './config.js';
import type { IO } from './io.js';
import type { Clock } from './core/time.js';
import type { Store } from './store/index.js';

export interface Prompter {
  input(message: string, defaultValue?: string): Promise<string>;
  confirm(message: string, defaultValue?: boolean): Promise<boolean>;
}

export interface Deps {
  io: IO;
  clock: Clock;
  /** The resolved home directory (it may not exist yet). */
  home: string;
  /** Global flags. */
  debug: boolean;
  config(): Promise<Config>;
  store(): Promise<Store>;
  prompter: Prompter;
  /** Closes whatever was opened. Safe to call twice. */
  close(): Promise<void>;
}

export interface DepsOptions {
  io: IO;
  clock: Clock;
  home: string;
  debug?: boolean;
}

export function createDeps(options: DepsOptions): Deps {
  let config: Promise<Config> | undefined;
  let store: Promise<Store> | undefined;
  const deps: Deps = {
    io: options.io,
    clock: options.clock,
    home: options.home,
    debug: options.debug ?? false,
    config() {
      config ??= import('./config.js').then((m) => m.loadConfig(options.home, options.io.env));
      return config;
    },
    store() {
      store ??= (async () => {
        const cfg = await deps.config();
        const [{ openStore }, { databasePath }] = await Promise.all([import('./store/index.js'), import('./config.js')]);
        return openStore(databasePath(options.home, cfg), options.clock);
      })();
      return store;
    },
    prompter: {
      async input(message, defaultValue) {
        const { input } = await import('@inquirer/prompts');
        return input({ message, default: defaultValue });
      },
      async confirm(message, defaultValue) {
        const { confirm } = await import('@inquirer/prompts');
        return confirm({ message, default: defaultValue });
      },
    },
    async close() {
      if (store) {
        const s = await store.catch(() => undefined);
        await s?.close();
      }
    },
  };
  return deps;
}
