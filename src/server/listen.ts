// Chooses the HTTP transport: uWebSockets.js where its native binary loads, node:http + ws
// elsewhere (illumos has no uWS build) or when asked with `--http node`.
import type { HttpHandler } from './http.ts';
import type * as UwsAdapterModule from './uws.ts';
import { realClock, type Clock } from '../time/clock.ts';

type UwsAdapter = typeof UwsAdapterModule;

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface Listening {
  port: number;
  transport: 'uws' | 'node';
  /**
   * Stops accepting, awaits `drain` (requests already in the handler finish), then ends open
   * streams cleanly and closes the sockets.
   */
  close(drain?: () => Promise<void>): Promise<void>;
}

export type TransportChoice = 'auto' | 'uws' | 'node';

/**
 * Listens with the chosen transport; `auto` falls back to node:http when uWS cannot load.
 * `clock` bounds the waits of close().
 */
export async function listen(handler: HttpHandler, host: string, port: number, choice: TransportChoice = 'auto', tls?: TlsFiles, log: (m: string) => void = () => {}, clock: Clock = realClock): Promise<Listening> {
  if (choice !== 'node') {
    let uws: UwsAdapter | undefined;
    try {
      uws = await import('./uws.ts');
      uws.loadUws();
    } catch (e) {
      if (choice === 'uws') throw new Error(`uWebSockets.js cannot load on this host: ${(e as Error).message}`, { cause: e });
      log(`uWebSockets.js is not available here (${(e as Error).message.split('\n')[0]}); serving with node:http`);
      uws = undefined;
    }
    if (uws) return uws.listenUws(handler, host, port, tls, clock);
  }
  const { listenNode } = await import('./node.ts');
  return listenNode(handler, host, port, tls, clock);
}
