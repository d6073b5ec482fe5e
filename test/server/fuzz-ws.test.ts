// A seeded fuzz run over the WebSocket surface, per transport: upgrade requests over raw TCP with
// odd paths, queries, keys, versions, subprotocols, Origins and headers; then, on accepted
// sockets, odd client frames (ws client and raw bytes). Every refusal must be a well-formed HTTP
// answer (a Status where there is a body) or a 101; after every batch the server still answers
// /healthz, a watch still delivers a new pod, and no watch slot is left held.
// Reproduce a failure with FUZZ_SEED=<seed printed in the test name>; FUZZ_CASES sets the cases per transport.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { unpack } from 'msgpackr';
import { createActor, createMachine } from 'xstate';
import { RESOURCES } from '../../src/api/model/resources.ts';
import { InspectHub } from '../../src/inspect/hub.ts';
import { Limits, MAX_WS_MESSAGE_BYTES } from '../../src/server/limits.ts';
import { route } from '../../src/server/router.ts';
import { MSGPACK_SUBPROTOCOL } from '../../src/server/watch.ts';
import { startServer, TRANSPORTS, type TestServer, type Transport } from '../helpers/server.ts';
import { fuzzCases, fuzzSeed, Gen, rng } from '../helpers/fuzz.ts';

const SEED = fuzzSeed();
const CASES = fuzzCases(600);
/** Cases in flight at once; the server checks run between batches. */
const BATCH = 20;
/** How long the server may take to answer anything (generous: loaded CI machines). */
const ANSWER_MS = 8_000;
/** How long to watch an accepted socket for the server's reaction before leaving. */
const LINGER_MS = 200;
/** uWS says nothing to requests its own parser refuses (it drops them ~12 s later); we stop waiting sooner. */
const SILENT_MS = 300;

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const ALLOWED_ORIGIN = 'https://console.example';
const RESOURCE_NAMES = RESOURCES.map((d) => d.resource);

// ---- plans: pure data drawn from the seed, so a case prints and replays exactly ----------------

/** `{host}` is replaced by the server's host:port when the case runs (same plans on both transports). */
interface Handshake {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  /** Bytes after the header block (a body on an upgrade, or frames sent eagerly). */
  tail?: Frame[] | string;
  /** uWS's own parser may drop this request without a word (see handshake()); node must still answer. */
  uwsDrops?: boolean;
  /** Write the request in this many pieces. */
  pieces: number;
  /** read: wait for the answer; half-close: end our side first; destroy: vanish at once; reset: vanish with a TCP RST. */
  after: 'read' | 'half-close' | 'destroy' | 'reset';
}

interface Frame {
  fin: boolean;
  rsv: number;
  op: number;
  mask: boolean;
  /** Length encoding: minimal, forced 16/64-bit, or a 64-bit length with its top bit set. */
  len: 'min' | '16' | '64' | 'msb';
  /** hex, `utf8:<text>`, or `<n>x<byte>` (n copies of a byte). */
  payload: string;
  /** Declare this many more bytes than are sent (a truncated frame). */
  short?: number;
}

type ClientAction =
  | { op: 'text'; size: number; json?: boolean }
  | { op: 'binary'; size: number }
  | { op: 'fragments'; sizes: number[]; binary: boolean; unfinished?: boolean }
  | { op: 'ping' | 'pong'; size: number }
  | { op: 'close'; code: number; reason: string }
  | { op: 'terminate' }
  | { op: 'pause'; ms: number };

type Plan =
  | { kind: 'upgrade'; req: Handshake }
  | { kind: 'client'; path: string; protocol?: string; actions: ClientAction[] }
  | { kind: 'raw'; req: Handshake; frames: (Frame | { garbage: string })[]; end: 'linger' | 'half-close' | 'destroy' | 'reset' };

const isFrame = (f: Frame | { garbage: string }): f is Frame => 'op' in f;

/** A target safe for the request line: bytes outside visible ASCII percent-encoded. */
const safe = (s: string): string =>
  s.replace(/[^\x21-\x7e]|#/g, (c) => [...Buffer.from(c)].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join(''));

function key(g: Gen): string {
  return Buffer.from(Array.from({ length: 16 }, () => g.int(256))).toString('base64');
}

function watchQuery(g: Gen, valid: boolean): string {
  const q = new URLSearchParams();
  if (g.chance(0.7)) q.set('watch', valid ? g.pick(['1', 'true']) : g.pick(['1', 'true', 'false', 'maybe', '']));
  const params: [string, () => string][] = valid
    ? [
        ['resourceVersion', () => g.pick(['0', '1', ''])],
        ['allowWatchBookmarks', () => 'true'],
        ['labelSelector', () => g.pick(['app=x', '!app', 'app in (a,b)'])],
        ['fieldSelector', () => g.pick(['metadata.name=p1', 'metadata.namespace=default'])],
        ['timeoutSeconds', () => g.pick(['5', '30'])],
      ]
    : [
        ['resourceVersion', () => g.pick(['0', '1', '', 'x', '-5', '999999999', '99999999999999999999999', '1e3', '0x10', ' 1'])],
        ['resourceVersionMatch', () => g.pick(['NotOlderThan', 'Exact', 'bogus'])],
        ['sendInitialEvents', () => g.pick(['true', 'false', 'x'])],
        ['allowWatchBookmarks', () => g.pick(['true', 'x'])],
        ['labelSelector', () => g.pick(['app=x', 'app in (a,b)', '!app', '(((', 'x=' + g.str(70), g.str(8)])],
        ['fieldSelector', () => g.pick(['metadata.name=p1', 'spec.nodeName=n1', 'bogus=1', '=', g.str(8)])],
        ['timeoutSeconds', () => g.pick(['1', '0', '-1', 'x', '99999999999'])],
        ['includeObject', () => g.pick(['Object', 'None', 'Metadata', 'x'])],
        ['actor', () => g.pick(['pod/default/p1', 'node/n1', g.str(6)])],
        ['node', () => g.pick(['n1', g.str(6)])],
        [g.str(5), () => g.str(5)],
      ];
  for (let i = g.int(valid ? 2 : 4); i > 0; i--) {
    const [k, v] = g.pick(params);
    q.append(k, v());
  }
  let s = q.toString();
  if (!valid && g.chance(0.1)) s += g.pick(['&%zz', '&a=%', '&&', '&=x', '&watch=1&watch=0', '%00']);
  return s === '' ? '' : `?${s}`;
}

function watchablePath(g: Gen): string {
  return g.pick(['/api/v1/namespaces/default/pods', '/api/v1/pods', '/api/v1/nodes', '/api/v1/namespaces', '/api/v1/namespaces/default/events', '/api/v1/watch/namespaces/default/pods', '/api/v1/watch/namespaces/default/pods/p1', '/api/v1/watch/nodes/n1', '/inspect/events']);
}

function anyPath(g: Gen): string {
  const res = g.chance(0.85) ? g.pick(RESOURCE_NAMES) : g.str(6);
  const ns = g.chance(0.7) ? 'default' : g.name();
  const name = g.name();
  const enc = (s: string): string => (g.chance(0.8) ? encodeURIComponent(s) : s);
  return g.pick([
    watchablePath(g), watchablePath(g), watchablePath(g),
    `/api/v1/namespaces/${enc(ns)}/${res}`, `/api/v1/${res}`, `/api/v1/watch/namespaces/${enc(ns)}/${res}`, `/api/v1/watch/${res}`,
    `/api/v1/namespaces/${enc(ns)}/${res}/${enc(name)}`, '/api/v1/namespaces/default/pods/p1', '/api/v1/namespaces/default/pods/p1/status', '/api/v1/nodes/n1',
    '/inspect/events/', '/inspect', '/inspect/events/x', '/healthz', '/api', '/api/v1', '/', `/${g.str(8)}`, '/api/v1/%zz', '/api/v1/namespaces//pods',
    '/api/v1/namespaces/default/pods/%2e%2e', '/api/v1/namespaces/default/pods/', `/api/v1/namespaces/default/pods/${'x'.repeat(9000)}`,
    'http://{host}/api/v1/pods', '*',
  ]);
}

const isCtl = (c: string): boolean => (c < ' ' && c !== '\t') || c === '\x7f';

function handshake(g: Gen, valid: boolean): Handshake {
  const path = valid ? watchablePath(g) : anyPath(g);
  const h: [string, string][] = [];
  const add = (name: string, value: string | undefined): void => {
    if (value !== undefined) h.push([name, value]);
  };
  const k = key(g);
  add('Host', valid || g.chance(0.9) ? '{host}' : g.pick([undefined, '', 'evil.example', '{host}, {host}']));
  add('Connection', valid || g.chance(0.85) ? g.pick(['Upgrade', 'upgrade', 'keep-alive, Upgrade']) : g.pick([undefined, '', 'close', 'keep-alive', 'Upgrade, close', 'upgrade2']));
  add('Upgrade', valid || g.chance(0.85) ? g.pick(['websocket', 'websocket', 'WebSocket']) : g.pick([undefined, '', 'h2c', 'websocket, h2c', 'TLS/1.0', g.str(6)]));
  add('Sec-WebSocket-Key', valid || g.chance(0.8) ? k : g.pick([undefined, '', 'abc', '!'.repeat(24), 'x'.repeat(100), `${k} `, k.slice(1), `${k}, ${k}`, g.str(24)]));
  if (!valid && g.chance(0.03)) add('Sec-WebSocket-Key', key(g));
  add('Sec-WebSocket-Version', valid || g.chance(0.8) ? g.pick(['13', '13', '13', '8']) : g.pick([undefined, '', '12', '0', 'abc', '13, 8', '14', '013', '+13', '1.3e1']));
  // /inspect/events speaks no subprotocol: offering one there fails the client (as browsers do).
  if (valid) add('Sec-WebSocket-Protocol', path === '/inspect/events' ? undefined : g.pick([undefined, undefined, MSGPACK_SUBPROTOCOL, 'chat']));
  else if (g.chance(0.4)) {
    add('Sec-WebSocket-Protocol', g.pick(['', MSGPACK_SUBPROTOCOL, 'chat', `a, b`, `${MSGPACK_SUBPROTOCOL}, ${MSGPACK_SUBPROTOCOL}`, ',', ', ', 'a,', 'a,,b', 'a b', 'a;b', '"a"', 'x'.repeat(300), g.str(10)]));
    if (g.chance(0.1)) add('Sec-WebSocket-Protocol', 'second');
  }
  if (g.chance(0.1)) add('Sec-WebSocket-Extensions', g.pick(['permessage-deflate', 'permessage-deflate; client_max_window_bits', 'x-webkit-deflate-frame', ...(valid ? [] : [';;', g.str(10)])]));
  if (g.chance(valid ? 0.3 : 0.4)) {
    add('Origin', valid
      ? g.pick(['http://{host}', ALLOWED_ORIGIN, 'https://{host}'])
      : g.pick(['http://{host}', 'https://{host}', 'http://{host}/path?q', ALLOWED_ORIGIN, `${ALLOWED_ORIGIN}.evil`, 'http://evil.example', 'null', '', '::::', 'http://', 'http://127.0.0.1:1', 'file://', g.str(12)]));
  }
  if (!valid && g.chance(0.05)) add('Sec-WebSocket-Origin', g.pick(['http://evil.example', 'http://{host}']));
  if (g.chance(0.1)) add('Accept', g.pick(['application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io', 'text/event-stream', '*/*', ...(valid ? [] : [g.str(10)])]));
  if (!valid && g.chance(0.05)) add('Authorization', g.pick(['Bearer x', 'Basic', g.str(20)]));
  let malformed = false;
  let tail: string | undefined;
  if (!valid) {
    // Huge header blocks: node's limit is 16 KiB (its parser answers 431), ours the same (uWS hands them over).
    if (g.chance(0.05)) add('X-Fuzz', 'a'.repeat(g.pick([1_000, 8_000, 15_000, 17_000, 40_000, 100_000])));
    if (g.chance(0.03)) for (let i = g.int(90); i > 0; i--) add(`X-H${i}`, g.str(8).replace(/[^\x20-\x7e]/g, 'x'));
    if (g.chance(0.03)) {
      add('Content-Length', '5');
      tail = 'hello';
    }
  }
  let method = valid || g.chance(0.85) ? 'GET' : g.pick(['POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'get', 'X']);
  let target = safe(path) + (valid ? watchQuery(g, true) : watchQuery(g, false));
  let version = 'HTTP/1.1';
  // Requests HTTP parsers refuse.
  if (!valid && g.chance(0.05)) {
    malformed = true;
    switch (g.int(7)) {
      case 0: target = `${target} x`; break;
      case 1: add('X-Ctl', 'a\u0001b'); break;
      case 2: for (let i = 0; i < 120; i++) add(`X-M${i}`, 'v'); break;
      case 3: version = 'HTTP/1.0'; break;
      case 4: version = 'HTTP/2.0'; break;
      case 5: add('Bad Name', 'x'); break;
      default: method = '';
    }
  }
  const pieces = g.chance(0.15) ? 2 + g.int(3) : 1;
  // uWS's native parser drops (closing, or silent until its ~12 s timeout) methods it does not know
  // or in lower case, targets not starting with '/', control characters, more than 48 headers,
  // HTTP/1.1 without Host, and header blocks over 4 KiB that do not arrive in one read.
  const headBytes = target.length + h.reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v) + 4, 0);
  const uwsDrops = malformed || !/^(GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|CONNECT)$/.test(method) || !target.startsWith('/') ||
    h.some(([, v]) => [...v].some(isCtl)) || h.length > 47 || !h.some(([k]) => k === 'Host') || headBytes > 3_500;
  return { method, target, version, headers: h, pieces, after: valid ? 'read' : g.pick(['read', 'read', 'read', 'read', 'read', 'read', 'read', 'read', 'read', 'half-close', 'destroy', 'reset']), ...(uwsDrops ? { uwsDrops } : {}), ...(tail !== undefined ? { tail } : {}) };
}

const INVALID_UTF8 = ['ff', 'c328', 'eda080', 'f4908080', 'e282', 'c0af', 'fe', 'f8888080', '80', '6869ff'];
const CLOSE_CODES = [0, 999, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1011, 1012, 1014, 1015, 1016, 2999, 3000, 4000, 4999, 5000, 65535];

function frame(op: number, payload: string, o: Partial<Frame> = {}): Frame {
  return { fin: true, rsv: 0, op, mask: true, len: 'min', payload, ...o };
}

const utf8 = (g: Gen, max = 40): string => `utf8:${g.chance(0.5) ? JSON.stringify({ type: 'x', n: g.int(100) }) : g.str(max)}`;

/** One step of misbehaviour as raw frames. */
function frameStep(g: Gen): (Frame | { garbage: string })[] {
  switch (g.int(20)) {
    case 0: return [frame(1, utf8(g))];
    case 1: return [frame(1, (g.chance(0.5) ? Buffer.from(g.str(5)).toString('hex') : '') + g.pick(INVALID_UTF8))];
    case 2: return [frame(2, `${g.int(2000)}x${g.int(256)}`)];
    case 3: return [frame(g.pick([1, 2]), `${MAX_WS_MESSAGE_BYTES + 1 + g.int(4096)}x97`)];
    case 4: return [frame(2, `${MAX_WS_MESSAGE_BYTES}x97`)];
    case 5: {
      // A fragmented message, sometimes with a ping inside, a UTF-8 character split across fragments, or too long in total.
      const op = g.pick([1, 2]);
      const parts = 2 + g.int(4);
      const big = g.chance(0.2);
      const out: Frame[] = [];
      for (let i = 0; i < parts; i++) {
        const payload = big ? `${Math.ceil((MAX_WS_MESSAGE_BYTES + 10) / parts)}x98` : i === 0 && g.chance(0.3) ? 'c3' : i === 1 && out[0]?.payload === 'c3' ? g.pick(['a4', 'ff']) : `${g.int(50)}x99`;
        out.push(frame(i === 0 ? op : 0, payload, { fin: i === parts - 1 }));
        if (g.chance(0.2)) out.push(frame(9, `${g.int(10)}x1`));
      }
      if (g.chance(0.2)) out.pop();
      return out;
    }
    case 6: return [frame(0, utf8(g))];
    case 7: return [frame(1, 'utf8:a', { fin: false }), frame(g.pick([1, 2]), 'utf8:b')];
    case 8: return [frame(9, `${g.int(126)}x7`)];
    case 9: return [frame(9, `${126 + g.int(200)}x7`, { len: '16' })];
    case 10: return [frame(g.pick([8, 9, 10]), '', { fin: false })];
    case 11: return [frame(10, `${g.int(126)}x7`)];
    case 12: return [frame(g.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), `${g.int(20)}x1`)];
    case 13: return [frame(g.pick([1, 2, 9]), 'utf8:x', { rsv: 1 + g.int(7) })];
    case 14: return [frame(g.pick([1, 2, 8, 9]), 'utf8:hi', { mask: false })];
    case 15: {
      const code = g.pick(CLOSE_CODES);
      const reason = g.pick(['', '', Buffer.from(g.str(20)).toString('hex'), g.pick(INVALID_UTF8), '61'.repeat(124)]);
      const payload = g.pick([`${code.toString(16).padStart(4, '0')}${reason}`, `${code.toString(16).padStart(4, '0')}${reason}`, '', '03']);
      const out: Frame[] = [frame(8, payload)];
      if (g.chance(0.3)) out.push(frame(1, utf8(g)));
      return out;
    }
    case 16: return [frame(g.pick([1, 2]), utf8(g, 10), { len: g.pick(['16', '64'] as const) })];
    case 17: return [frame(g.pick([1, 2]), `${g.int(8)}x0`, { len: 'msb' })];
    case 18: return [frame(g.pick([1, 2]), `${g.int(100)}x5`, { short: 1 + g.int(g.pick([10, 100_000, 10_000_000])) })];
    default: {
      if (g.chance(0.3)) return Array.from({ length: 50 + g.int(200) }, () => frame(g.pick([1, 9, 10]), `${g.int(5)}x65`));
      if (g.chance(0.3)) return Array.from({ length: 300 }, (_, i) => frame(i === 0 ? 1 : 0, '61', { fin: i === 299 }));
      return [{ garbage: Array.from({ length: 1 + g.int(40) }, () => g.int(256).toString(16).padStart(2, '0')).join('') }];
    }
  }
}

function clientAction(g: Gen): ClientAction {
  switch (g.int(10)) {
    case 0: return { op: 'text', size: g.pick([0, 1, 100, 10_000]), json: g.chance(0.5) };
    case 1: return { op: 'binary', size: g.pick([0, 1, 100, 10_000]) };
    case 2: return { op: g.pick(['text', 'binary'] as const), size: MAX_WS_MESSAGE_BYTES + 1 + g.int(g.pick([1, 4096, MAX_WS_MESSAGE_BYTES])) };
    case 3: return { op: 'binary', size: MAX_WS_MESSAGE_BYTES };
    case 4: {
      const big = g.chance(0.3);
      const n = 2 + g.int(4);
      return { op: 'fragments', binary: g.chance(0.5), sizes: Array.from({ length: n }, () => (big ? Math.ceil((MAX_WS_MESSAGE_BYTES + 100) / n) : g.int(200))), ...(g.chance(0.15) ? { unfinished: true } : {}) };
    }
    case 5: return { op: g.pick(['ping', 'pong'] as const), size: g.int(126) };
    case 6: return { op: 'close', code: g.pick([1000, 1001, 1003, 3000, 4000, 4999]), reason: g.pick(['', 'bye', 'x'.repeat(123), 'äöü']) };
    case 7: return { op: 'terminate' };
    default: return { op: 'pause', ms: g.int(30) };
  }
}

function makePlan(g: Gen): Plan {
  const r = g.r();
  if (r < 0.5) return { kind: 'upgrade', req: handshake(g, false) };
  if (r < 0.72) {
    const path = watchablePath(g);
    const protocol = path === '/inspect/events' ? undefined : g.pick([undefined, undefined, MSGPACK_SUBPROTOCOL]);
    return { kind: 'client', path: path + watchQuery(g, true), ...(protocol ? { protocol } : {}), actions: Array.from({ length: 1 + g.int(5) }, () => clientAction(g)) };
  }
  const req = handshake(g, true);
  const frames = Array.from({ length: 1 + g.int(4) }, () => frameStep(g)).flat();
  // Frames in the same packet as the handshake reach node as the upgrade's `head`.
  if (g.chance(0.15)) {
    req.tail = frames.filter(isFrame).slice(0, 3);
    return { kind: 'raw', req, frames: [], end: 'linger' };
  }
  return { kind: 'raw', req, frames, end: g.pick(['linger', 'linger', 'linger', 'half-close', 'destroy', 'reset']) };
}

const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const fixedUpgrade = (method: string, headers: [string, string][], target = '/api/v1/namespaces/default/pods?watch=1', after: Handshake['after'] = 'read'): Plan => ({
  kind: 'upgrade',
  req: { method, target, version: 'HTTP/1.1', headers: [['Host', '{host}'], ['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ...headers], pieces: 1, after },
});

/** Cases first run on every seed: reproducers of bugs this fuzz found (node transport). */
const REGRESSIONS: Plan[] = [
  // ws refused these after the API had admitted the watch: a text/html 400/405, and the client's watch slot leaked for good.
  fixedUpgrade('GET', [['Sec-WebSocket-Key', 'abc'], ['Sec-WebSocket-Version', '13']]),
  fixedUpgrade('GET', [['Sec-WebSocket-Key', SAMPLE_KEY], ['Sec-WebSocket-Version', '12']]),
  fixedUpgrade('GET', [['Sec-WebSocket-Key', SAMPLE_KEY], ['Sec-WebSocket-Version', '13'], ['Sec-WebSocket-Protocol', 'a b']]),
  fixedUpgrade('POST', [['Sec-WebSocket-Key', SAMPLE_KEY], ['Sec-WebSocket-Version', '13']]),
  // node dropped CONNECT without an answer.
  fixedUpgrade('CONNECT', [['Sec-WebSocket-Key', SAMPLE_KEY], ['Sec-WebSocket-Version', '13']]),
  // A client resetting the connection while node wrote a refusal crashed the server (write ECONNRESET, no 'error' listener).
  fixedUpgrade('GET', [['Sec-WebSocket-Key', SAMPLE_KEY], ['Sec-WebSocket-Version', '13']], '/api/v1/pods/x?watch=1', 'reset'),
  fixedUpgrade('GET', [['Sec-WebSocket-Key', 'abc'], ['Sec-WebSocket-Version', '13']], '/api/v1/pods?watch=1', 'reset'),
  fixedUpgrade('CONNECT', [], '/api/v1/pods', 'reset'),
  // A frame over the limit crashed the node server (an unhandled 'error' on its socket).
  { kind: 'client', path: '/api/v1/pods?watch=1', actions: [{ op: 'binary', size: MAX_WS_MESSAGE_BYTES + 1 }] },
];

// ---- wire helpers --------------------------------------------------------------------------------

function payloadBytes(p: string): Buffer {
  if (p.startsWith('utf8:')) return Buffer.from(p.slice(5));
  const m = /^(\d+)x(\d+)$/.exec(p);
  if (m) return Buffer.alloc(Number(m[1]), Number(m[2]));
  return Buffer.from(p, 'hex');
}

function frameBytes(f: Frame): Buffer {
  const payload = payloadBytes(f.payload);
  const n = payload.length + (f.short ?? 0);
  const head: number[] = [(f.fin ? 0x80 : 0) | ((f.rsv & 7) << 4) | (f.op & 0x0f)];
  const maskBit = f.mask ? 0x80 : 0;
  const len = f.len === 'min' ? (n < 126 ? 'min' : n < 65536 ? '16' : '64') : f.len;
  if (len === 'min') head.push(maskBit | n);
  else if (len === '16') head.push(maskBit | 126, (n >> 8) & 0xff, n & 0xff);
  else {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n) | (len === 'msb' ? 1n << 63n : 0n));
    head.push(maskBit | 127, ...b);
  }
  if (!f.mask) return Buffer.concat([Buffer.from(head), payload]);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] = (masked[i] as number) ^ (mask[i & 3] as number);
  return Buffer.concat([Buffer.from(head), mask, masked]);
}

function requestBytes(req: Handshake, host: string): Buffer {
  const sub = (s: string): string => s.replaceAll('{host}', host);
  const head = `${req.method} ${sub(req.target)} ${req.version}\r\n${req.headers.map(([k, v]) => `${k}: ${sub(v)}\r\n`).join('')}\r\n`;
  const tail = req.tail === undefined ? Buffer.alloc(0) : typeof req.tail === 'string' ? Buffer.from(req.tail) : Buffer.concat(req.tail.map(frameBytes));
  // Non-ASCII header values go out as UTF-8 bytes (obs-text, which parsers accept).
  return Buffer.concat([Buffer.from(head), tail]);
}

/** A raw TCP connection that keeps everything the server sent. */
class Conn {
  readonly socket: Socket;
  data = Buffer.alloc(0);
  closed = false;
  private wake: (() => void) | undefined;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => {
      this.data = Buffer.concat([this.data, d]);
      this.wake?.();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    this.socket.on('error', () => {});
  }

  /** Resolves true once `cond` holds, false after `ms`. */
  async until(cond: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (!cond()) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return true;
  }

  async write(b: Buffer, pieces = 1): Promise<void> {
    const size = Math.ceil(b.length / pieces);
    for (let i = 0; i < b.length; i += size) {
      if (this.closed) return;
      this.socket.write(b.subarray(i, i + size));
      if (pieces > 1) await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Leaves with a TCP RST once what was written has gone out, so the server's answer meets a reset. */
  async reset(): Promise<void> {
    await new Promise<void>((r) => this.socket.write(Buffer.alloc(0), () => r()));
    this.socket.resetAndDestroy();
  }
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Reads one HTTP answer; undefined when the server closed or stayed silent for `ms`. */
async function readAnswer(c: Conn, method: string, ms: number): Promise<Answer | undefined> {
  const headEnd = (): number => c.data.indexOf('\r\n\r\n');
  if (!(await c.until(() => headEnd() >= 0 || c.closed, ms)) || headEnd() < 0) {
    assert.ok(c.data.length === 0, `a partial answer: ${JSON.stringify(c.data.toString('latin1').slice(0, 200))}`);
    return undefined;
  }
  const end = headEnd();
  const lines = c.data.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3}) [^\r\n]*$/.exec(lines[0] ?? '');
  assert.ok(m, `bad status line ${JSON.stringify(lines[0])}`);
  const status = Number(m[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    assert.ok(i > 0, `bad header line ${JSON.stringify(line)}`);
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const start = end + 4;
  if (status === 101) return { status, headers, body: Buffer.alloc(0) };
  // HEAD: the head is the answer (uWS streams a HEAD watch's body anyway: a gap outside this fuzz).
  if (method === 'HEAD') return { status, headers, body: Buffer.alloc(0) };
  const noBody = status === 204 || status === 304;
  if (!noBody && headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    assert.ok(Number.isInteger(n) && n >= 0, `content-length ${headers['content-length']}`);
    assert.ok(await c.until(() => c.data.length >= start + n || c.closed, ms), `body of ${n} bytes not sent within ${ms} ms`);
    assert.ok(c.data.length >= start + n, `connection closed after ${c.data.length - start} of ${n} body bytes`);
    return { status, headers, body: c.data.subarray(start, start + n) };
  }
  if (!noBody && /chunked/i.test(headers['transfer-encoding'] ?? '')) {
    // A 2xx stream (a plain HTTP watch, where uWS routes a GET whose key it does not take) runs on: its head is enough.
    if (status < 300) return { status, headers, body: Buffer.alloc(0) };
    const done = (): boolean => c.data.subarray(start).includes('\r\n0\r\n\r\n') || c.data.subarray(start).indexOf('0\r\n\r\n') === 0;
    assert.ok(await c.until(() => done() || c.closed, ms), `chunked body not finished within ${ms} ms`);
    assert.ok(done(), 'connection closed inside a chunked body');
    return { status, headers, body: dechunk(c.data.subarray(start)) };
  }
  if (!noBody && status >= 300) {
    assert.ok(await c.until(() => c.closed, ms), `a body without length not ended within ${ms} ms`);
  } else if (!noBody && status >= 200) {
    // A stream ended by close (a watch answering HTTP/1.0 or 2.0): its head is enough.
    return { status, headers, body: Buffer.alloc(0) };
  }
  return { status, headers, body: c.data.subarray(start) };
}

function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', i);
    const n = parseInt(b.subarray(i, eol).toString('latin1'), 16);
    assert.ok(Number.isInteger(n), 'bad chunk size');
    if (n === 0) return Buffer.concat(out);
    out.push(b.subarray(eol + 2, eol + 2 + n));
    i = eol + 2 + n + 2;
  }
}

/** A refusal (or a plain answer) must be well-formed: error bodies are Status objects, never a 500. */
function checkAnswer(a: Answer): void {
  assert.ok(a.status >= 101 && a.status < 600, `status ${a.status}`);
  assert.notEqual(a.status, 500, `internal error: ${a.body.toString()}`);
  const type = a.headers['content-type'] ?? '';
  if (a.status >= 400 && a.body.length > 0) {
    assert.match(type, /json/, `a ${a.status} with content-type ${JSON.stringify(type)}: ${a.body.toString().slice(0, 200)}`);
    const s = JSON.parse(a.body.toString()) as { kind?: string; code?: number; status?: string; reason?: string; message?: string };
    assert.equal(s.kind, 'Status');
    assert.equal(s.code, a.status);
    assert.equal(s.status, 'Failure');
    assert.equal(typeof s.reason, 'string');
    assert.equal(typeof s.message, 'string');
  } else if (a.body.length > 0 && /json/.test(type)) JSON.parse(a.body.toString());
}

/** A 101 answers a watchable URL only, proves the key, and echoes nothing but the one protocol offered. */
function check101(a: Answer, req: Handshake): void {
  const header = (name: string): string | undefined => req.headers.find(([k]) => k.toLowerCase() === name)?.[1];
  const path = req.target.split('?')[0] as string;
  const r = route(path);
  assert.ok(path === '/inspect/events' || (r?.type === 'resource' && (r.name === undefined || r.legacyWatch)), `101 for ${path}`);
  assert.match(a.headers.upgrade ?? '', /^websocket$/i);
  const k = (header('sec-websocket-key') ?? '').trim();
  assert.equal(a.headers['sec-websocket-accept'], createHash('sha1').update(k + GUID).digest('base64'));
  const offered = req.headers.filter(([k]) => k.toLowerCase() === 'sec-websocket-protocol').flatMap(([, v]) => v.split(',')).map((p) => p.trim()).filter(Boolean);
  const echoed = a.headers['sec-websocket-protocol'];
  if (echoed !== undefined) assert.deepEqual([echoed], offered, 'the protocol echoed is the one offered');
}

const VALID_CLOSE = (code: number): boolean => (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);

/** Everything a server sends after a 101 must be well-formed server frames: unmasked, known opcodes, JSON or msgpack messages. */
function checkServerFrames(b: Buffer, msgpack: boolean): void {
  let i = 0;
  let closed = false;
  while (i + 2 <= b.length) {
    const b0 = b[i] as number;
    const b1 = b[i + 1] as number;
    let n = b1 & 0x7f;
    let at = i + 2;
    if (n === 126) {
      if (at + 2 > b.length) return;
      n = b.readUInt16BE(at);
      at += 2;
    } else if (n === 127) {
      if (at + 8 > b.length) return;
      n = Number(b.readBigUInt64BE(at));
      at += 8;
    }
    if (at + n > b.length) return; // we left before the rest arrived
    const op = b0 & 0x0f;
    const payload = b.subarray(at, at + n);
    assert.equal(b1 & 0x80, 0, 'a masked server frame');
    assert.equal(b0 & 0x70, 0, 'reserved bits set by the server');
    assert.ok([1, 2, 8, 9, 10].includes(op), `server opcode ${op}`);
    assert.ok(!closed, 'a frame after the server’s close frame');
    assert.ok(b0 & 0x80, 'a fragmented server frame');
    if (op === 8) {
      closed = true;
      assert.notEqual(n, 1, 'a one-byte close payload');
      if (n >= 2) assert.ok(VALID_CLOSE(payload.readUInt16BE(0)), `close code ${payload.readUInt16BE(0)}`);
    } else if (op === 1) JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    else if (op === 2) {
      assert.ok(msgpack, 'a binary frame without the msgpack subprotocol');
      unpack(payload);
    }
    i = at + n;
  }
}

// ---- running a case ------------------------------------------------------------------------------

interface Ctx {
  transport: Transport;
  port: number;
  host: string;
  /** Sockets and clients a case leaves behind, cut after its batch. */
  leftovers: Set<{ destroy(): void }>;
  /** Outcome counts, reported with the test (shows what a seed covered). */
  stats: Map<string, number>;
}

const count = (ctx: Ctx, what: string): void => void ctx.stats.set(what, (ctx.stats.get(what) ?? 0) + 1);

async function runUpgrade(ctx: Ctx, req: Handshake): Promise<void> {
  const c = new Conn(ctx.port);
  ctx.leftovers.add(c.socket);
  await c.write(requestBytes(req, ctx.host), req.pieces);
  if (req.after === 'destroy' || req.after === 'reset') {
    count(ctx, 'upgrade:abandoned');
    if (req.after === 'reset') await c.reset();
    else c.socket.destroy();
    return;
  }
  if (req.after === 'half-close') c.socket.end();
  // uWS's parser drops what it cannot read without a word; everything else gets an answer.
  const silentOk = req.after === 'half-close' || (ctx.transport === 'uws' && req.uwsDrops === true);
  const a = await readAnswer(c, req.method, silentOk ? Math.min(SILENT_MS, ANSWER_MS) : ANSWER_MS);
  if (a === undefined) {
    assert.ok(silentOk, c.closed ? 'closed without an answer' : `no answer within ${ANSWER_MS} ms`);
    count(ctx, 'upgrade:no answer');
    c.socket.destroy();
    return;
  }
  checkAnswer(a);
  count(ctx, `upgrade:${a.status}`);
  if (a.status === 101) {
    check101(a, req);
    c.socket.write(frameBytes(frame(8, '03e8')));
  }
  c.socket.destroy();
}

async function runRaw(ctx: Ctx, plan: Plan & { kind: 'raw' }): Promise<void> {
  const c = new Conn(ctx.port);
  ctx.leftovers.add(c.socket);
  await c.write(requestBytes(plan.req, ctx.host), plan.req.pieces);
  const a = await readAnswer(c, 'GET', ANSWER_MS);
  assert.ok(a, c.closed ? 'closed without an answer' : `no answer within ${ANSWER_MS} ms`);
  checkAnswer(a);
  assert.equal(a.status, 101, `a valid handshake refused: ${a.body.toString().slice(0, 300)}`);
  check101(a, plan.req);
  const start = c.data.indexOf('\r\n\r\n') + 4;
  for (const f of plan.frames) {
    if (c.closed) break;
    c.socket.write(isFrame(f) ? frameBytes(f) : Buffer.from(f.garbage, 'hex'));
  }
  if (plan.end === 'destroy' || plan.end === 'reset') {
    count(ctx, 'raw:abandoned');
    if (plan.end === 'reset') await c.reset();
    else c.socket.destroy();
    return;
  }
  if (plan.end === 'half-close') c.socket.end();
  count(ctx, (await c.until(() => c.closed, LINGER_MS)) ? 'raw:closed by server' : 'raw:left open');
  checkServerFrames(c.data.subarray(start), a.headers['sec-websocket-protocol'] === MSGPACK_SUBPROTOCOL);
  c.socket.destroy();
}

async function runClient(ctx: Ctx, plan: Plan & { kind: 'client' }): Promise<void> {
  const ws = new WebSocket(`ws://${ctx.host}${plan.path}`, plan.protocol ? [plan.protocol] : []);
  ctx.leftovers.add({ destroy: () => ws.terminate() });
  const problems: string[] = [];
  let closed = false;
  const closedP = new Promise<void>((r) => ws.once('close', () => {
    closed = true;
    r();
  }));
  ws.on('message', (data, binary) => {
    try {
      if (binary) unpack(data as Buffer);
      else JSON.parse(String(data));
    } catch (e) {
      problems.push(`unreadable message: ${(e as Error).message}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no handshake within ${ANSWER_MS} ms`)), ANSWER_MS);
    ws.once('open', () => {
      clearTimeout(t);
      resolve();
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(t);
      reject(new Error(`a valid handshake refused with ${res.statusCode}`));
    });
    ws.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
  // After the open, errors are the server cutting us off (fine) unless our client finds its frames invalid.
  ws.on('error', (e) => {
    if (/invalid|unexpected|reserved|must not|mask/i.test(e.message) && !/write after end/i.test(e.message)) problems.push(`client saw a bad server frame: ${e.message}`);
  });
  let closeCode: number | undefined;
  for (const act of plan.actions) {
    if (closed || ws.readyState !== WebSocket.OPEN) break;
    const send = (d: Buffer | string, o: { binary?: boolean; fin?: boolean } = {}): void => ws.send(d, o, () => {});
    switch (act.op) {
      case 'text': send(act.json ? JSON.stringify({ x: 'y'.repeat(act.size) }) : 'z'.repeat(act.size)); break;
      case 'binary': send(Buffer.alloc(act.size, 7), { binary: true }); break;
      case 'fragments':
        act.sizes.forEach((n, i) => send(act.binary ? Buffer.alloc(n, 1) : 'f'.repeat(n), { binary: act.binary, fin: i === act.sizes.length - 1 && !act.unfinished }));
        break;
      case 'ping': ws.ping(Buffer.alloc(act.size, 3)); break;
      case 'pong': ws.pong(Buffer.alloc(act.size, 4)); break;
      case 'close':
        closeCode = act.code;
        ws.close(act.code, act.reason);
        break;
      case 'terminate': ws.terminate(); break;
      case 'pause': await new Promise((r) => setTimeout(r, act.ms)); break;
    }
  }
  if (closeCode !== undefined && !closed) {
    // The server must answer our close frame (ws would otherwise wait 30 s and cut the socket).
    await Promise.race([closedP, new Promise((r) => setTimeout(r, ANSWER_MS))]);
    assert.ok(closed || ws.readyState === WebSocket.CLOSED, `close ${closeCode} not answered within ${ANSWER_MS} ms`);
  } else {
    await Promise.race([closedP, new Promise((r) => setTimeout(r, LINGER_MS))]);
  }
  count(ctx, closed ? 'client:closed' : 'client:left open');
  ws.terminate();
  assert.deepEqual(problems, []);
}

function runCase(ctx: Ctx, plan: Plan): Promise<void> {
  switch (plan.kind) {
    case 'upgrade': return runUpgrade(ctx, plan.req);
    case 'raw': return runRaw(ctx, plan);
    case 'client': return runClient(ctx, plan);
  }
}

const describePlan = (p: Plan): string => JSON.stringify(p, (_k, v: unknown) => (typeof v === 'string' && v.length > 200 ? `${v.slice(0, 60)}…(${v.length} chars)` : v));

// ---- server checks between batches -------------------------------------------------------------

const podBody = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });

async function createPod(s: TestServer, name: string): Promise<void> {
  const r = await fetch(`${s.url}/api/v1/namespaces/default/pods`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: podBody(name), signal: AbortSignal.timeout(ANSWER_MS) });
  assert.equal(r.status, 201, await r.text());
}

/** The server answers /healthz, and a fresh watch (WebSocket or HTTP, alternately) sees a pod created now. */
async function stillServing(s: TestServer, batch: number): Promise<void> {
  const h = await fetch(`${s.url}/healthz`, { signal: AbortSignal.timeout(ANSWER_MS) });
  assert.equal(h.status, 200);
  assert.equal(await h.text(), 'ok');
  const name = `probe-${batch}`;
  const query = `watch=1&fieldSelector=metadata.name%3D${name}`;
  if (batch % 2 === 0) {
    const ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}/api/v1/namespaces/default/pods?${query}`);
    try {
      const seen = new Promise<void>((resolve, reject) => {
        ws.on('message', (d) => {
          const e = JSON.parse(String(d)) as { type: string; object: { metadata: { name: string } } };
          if (e.type === 'ADDED' && e.object.metadata.name === name) resolve();
        });
        ws.once('error', reject);
        ws.once('close', () => reject(new Error('the watch closed')));
      });
      seen.catch(() => {});
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      await createPod(s, name);
      await withDeadline(seen, `the WebSocket watch to deliver ${name}`);
    } finally {
      ws.terminate();
    }
  } else {
    const abort = new AbortController();
    try {
      const r = await fetch(`${s.url}/api/v1/namespaces/default/pods?${query}`, { signal: abort.signal });
      assert.equal(r.status, 200);
      const reader = (r.body as ReadableStream<Uint8Array>).getReader();
      await createPod(s, name);
      const seen = (async () => {
        let text = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) throw new Error('the watch ended');
          text += Buffer.from(value).toString();
          if (text.split('\n').some((l) => l.includes('"ADDED"') && l.includes(`"name":"${name}"`))) return;
        }
      })();
      seen.catch(() => {});
      await withDeadline(seen, `the HTTP watch to deliver ${name}`);
    } finally {
      abort.abort();
    }
  }
}

function withDeadline<T>(p: Promise<T>, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_r, reject) => {
    t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ANSWER_MS);
  })]).finally(() => clearTimeout(t));
}

/** Watch slots our client holds (a refused or abandoned handshake must give its slot back). */
const heldWatches = (limits: Limits): number => limits.watchesOf('127.0.0.1');

async function eventually(cond: () => boolean, ms = ANSWER_MS): Promise<boolean> {
  for (const end = Date.now() + ms; !cond() && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

for (const transport of TRANSPORTS) {
  describe(`WebSocket fuzz over ${transport}`, () => {
    it(`survives ${CASES} random upgrades and client frames (seed ${SEED})`, { timeout: 120_000 }, async (t) => {
      const hub = new InspectHub();
      const actor = createActor(createMachine({ id: 'fuzz', initial: 'idle', states: { idle: {} } })).start();
      const unregister = hub.register('fuzz', actor);
      const limits = new Limits();
      const s = await startServer(transport, { allowedOrigins: [ALLOWED_ORIGIN], inspect: { hub, inspectorUrl: 'http://127.0.0.1:1/inspect' }, security: { limits } });
      const port = s.listening.port;
      const ctx: Ctx = { transport, port, host: `127.0.0.1:${port}`, leftovers: new Set(), stats: new Map() };
      const g = new Gen(rng(SEED));
      let current = '';
      try {
        await s.store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
        await s.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }], nodeName: 'n1' } });
        const plans: Plan[] = [...REGRESSIONS];
        for (let i = 0; i < CASES; i++) plans.push(makePlan(g));
        for (let b = 0; b * BATCH < plans.length; b++) {
          const batch = plans.slice(b * BATCH, (b + 1) * BATCH);
          const first = b * BATCH;
          current = `batch ${b} (cases ${first}..${first + batch.length - 1})`;
          const results = await Promise.allSettled(batch.map((p) => runCase(ctx, p)));
          for (const [i, r] of results.entries()) {
            if (r.status === 'rejected') {
              current = `case ${first + i}: ${describePlan(batch[i] as Plan)}`;
              throw r.reason;
            }
          }
          for (const x of ctx.leftovers) x.destroy();
          ctx.leftovers.clear();
          current = `server check after batch ${b} (cases ${first}..${first + batch.length - 1})`;
          await stillServing(s, b);
          assert.ok(await eventually(() => heldWatches(limits) === 0), `${heldWatches(limits)} watch slots still held after the batch's sockets closed`);
          assert.ok(await eventually(() => !hub.observing), 'an inspection page is still attached after its socket closed');
        }
        current = 'final store check';
        const r = await fetch(`${s.url}/api/v1/pods`, { signal: AbortSignal.timeout(ANSWER_MS) });
        assert.equal(r.status, 200);
        const list = (await r.json()) as { items: { metadata: { name?: unknown; uid?: unknown; resourceVersion?: unknown } }[] };
        assert.ok(list.items.length >= 2);
        for (const p of list.items) {
          assert.equal(typeof p.metadata.name, 'string');
          assert.equal(typeof p.metadata.uid, 'string', `pod ${String(p.metadata.name)} without a uid`);
          assert.match(String(p.metadata.resourceVersion), /^\d+$/, `pod ${String(p.metadata.name)} resourceVersion`);
        }
        t.diagnostic([...ctx.stats].sort().map(([k, n]) => `${k} ${n}`).join(', '));
      } catch (e) {
        throw new Error(`WebSocket fuzz over ${transport} failed with FUZZ_SEED=${SEED}: ${(e as Error).message}; at ${current}`, { cause: e });
      } finally {
        for (const x of ctx.leftovers) x.destroy();
        unregister();
        actor.stop();
        await s.stop();
      }
    });
  });
}
