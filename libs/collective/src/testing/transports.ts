// The ways a rank can pull its predecessor's chunks, as ListenOptions for the multi-process tests, and how a test
// tells from a worker's log which way its data actually went (so a silently ignored option cannot pass).
import type { ListenOptions, Transport } from '../collective';
import { hostId } from '../data-link';
import type { Rank } from './harness';

export interface Variant {
  name: string;
  transport: Transport;
  /** serve (and, for tcp, use) the data channel on an abstract Unix socket; undefined = the default (true) */
  unixSocket?: boolean;
}

/** transport 'tcp' between ranks of one machine: the data link on an abstract Unix socket (the default) */
export const UNIX: Variant = { name: 'tcp (Unix socket)', transport: 'tcp', unixSocket: true };
/** transport 'tcp' as between machines: the data link over loopback TCP */
export const TCP: Variant = { name: 'tcp (loopback TCP)', transport: 'tcp', unixSocket: false };
/** gRPC Pull streams */
export const GRPC: Variant = { name: 'grpc', transport: 'grpc' };

export const listenOptions = (v: Variant): Partial<ListenOptions> => ({
  transport: v.transport,
  ...(v.unixSocket !== undefined ? { unixSocket: v.unixSocket } : {}),
});

export type Via = 'unix' | 'tcp' | 'grpc';

/** How rank `me` pulls from a predecessor configured as `pred`. */
export function expectedVia(me: Variant, pred: Variant): Via {
  if (me.transport === 'grpc') return 'grpc';
  // Without a host id (no /proc boot id: not Linux) no rank serves an abstract socket, and TCP is the way.
  return me.unixSocket !== false && pred.unixSocket !== false && hostId() !== '' ? 'unix' : 'tcp';
}

/**
 * The data connections a worker opened to predecessors, from its log lines ("data channel to predecessor open",
 * `via` = the link's target: 'unix:@name' or 'host:port'); none for a rank that pulls over gRPC.
 */
export function dataLinksOpened(r: Rank): Via[] {
  const vias: Via[] = [];
  for (const t of r.stderr) {
    let l: { msg?: string; via?: string };
    try {
      l = JSON.parse(t);
    } catch {
      continue;
    }
    if (/data channel to predecessor open/.test(l.msg ?? '')) vias.push(String(l.via).startsWith('unix:') ? 'unix' : 'tcp');
  }
  return vias;
}
