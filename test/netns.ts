/**
 * An emulated multi-host network for the multi-host tests: Linux network namespaces ("hosts"), each joined by a veth
 * pair to one bridge that lives in a namespace of its own, every host's link limited by a token bucket
 * (`tc … tbf rate 1gbit burst 256kb latency 50ms`, on the host's side). Nothing is created in the root namespace:
 * removing the namespaces removes the bridge and every veth with them. Needs root and iproute2 (`ip`, `tc`).
 *
 *   const net = createNetwork(['a', 'b', 'c']);   // hosts 10.77.0.1, .2, .3 (/24), namespaces ganmh-<pid>-a, …
 *   net.cut('c'); net.restore('c');                // host c off the LAN (its bridge port down) and back
 *   net.remove();                                  // kills what still runs in them (by PID), deletes everything
 *   createNetwork(['a', 'b'], { rate: '10gbit' }); // another link rate (bench/link-scaling.ts); rate null: no limit
 */
import { execFileSync } from 'node:child_process';

/** Namespace names start with this, then the creating process's PID: `ganmh-<pid>-<host>`. */
const PREFIX = 'ganmh';
const SUBNET = '10.77.0';
/** The links' token bucket unless createNetwork is told otherwise (what the multi-host tests run on). */
const LINK = { rate: '1gbit', burst: '256kb', latency: '50ms' };

/** Each host's link limit, in `tc` units (`10gbit`, `512kb`, `50ms`); a field left out keeps the 1gbit default. */
export interface LinkOptions {
  /** tbf rate; null: no qdisc at all (the veth's own speed, i.e. the CPU's) */
  rate?: string | null;
  /** tbf bucket size: it must hold at least rate × one timer tick, or the link runs below its rate */
  burst?: string;
  latency?: string;
}

export interface Host {
  /** network namespace name */
  ns: string;
  /** IPv4 address on the emulated LAN */
  addr: string;
  /** the host's interface (in `ns`) */
  dev: string;
  /** the bridge's port for this host (in the bridge namespace) */
  port: string;
}

export interface EmulatedNetwork {
  bridgeNs: string;
  hosts: Record<string, Host>;
  /**
   * Takes host `name` off the LAN: 'bridge' (default) downs the bridge's port, as a switch or cable failure would
   * (the host's packets are dropped silently); 'host' downs the host's own interface (its sends fail at once,
   * ENETUNREACH). Its processes and sockets stay.
   */
  cut(name: string, side?: 'bridge' | 'host'): void;
  /** Puts it back (both sides up). */
  restore(name: string): void;
  /** PIDs of the processes running in the network's namespaces. */
  pids(): number[];
  /** Kills (SIGKILL, by PID) what still runs in the namespaces and deletes them; safe to call twice. */
  remove(): void;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryRun(f: () => unknown): void {
  try {
    f();
  } catch {
    /* already gone */
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pidsIn(ns: string): number[] {
  try {
    return ip(['netns', 'pids', ns]).split('\n').filter(Boolean).map(Number).filter((p) => p > 0 && p !== process.pid);
  } catch {
    return [];
  }
}

function deleteNamespaces(names: string[]): void {
  for (const ns of names) for (const pid of pidsIn(ns)) tryRun(() => process.kill(pid, 'SIGKILL'));
  for (const ns of names) tryRun(() => ip(['netns', 'del', ns]));
}

/** Namespaces this helper made in test processes that are gone (a run killed before its cleanup): removed. */
export function sweepStale(): void {
  let list = '';
  try {
    list = ip(['netns', 'list']);
  } catch {
    return;
  }
  const stale = list.split('\n').map((l) => l.split(' ')[0]).filter((n) => {
    const m = new RegExp(`^${PREFIX}-(\\d+)-`).exec(n);
    return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  });
  deleteNamespaces(stale);
}

/**
 * Why this machine cannot host the emulated network (not root, no `ip netns`, no `tc`), or null. A cheap check;
 * createNetwork can still fail (no veth, bridge or tbf support in the kernel, no CAP_NET_ADMIN in a container).
 */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'needs root (ip netns, veth, bridge, tc)';
  for (const [cmd, args] of [['ip', ['netns', 'list']], ['tc', ['-V']]] as const) {
    try {
      execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    } catch (e) {
      return `\`${cmd} ${args.join(' ')}\` failed (${(e as Error).message.split('\n')[0]}): install iproute2`;
    }
  }
  return null;
}

/** Creates the hosts `names` (addresses 10.77.0.1, .2, … in that order) on one bridge. Throws, leaving nothing, on failure. */
export function createNetwork(names: string[], link: LinkOptions = {}): EmulatedNetwork {
  const rate = link.rate === undefined ? LINK.rate : link.rate;
  const tbf = rate === null ? null : ['root', 'tbf', 'rate', rate, 'burst', link.burst ?? LINK.burst, 'latency', link.latency ?? LINK.latency];
  const tag = `${PREFIX}-${process.pid}`;
  const bridgeNs = `${tag}-br`;
  const hosts: Record<string, Host> = {};
  names.forEach((name, i) => (hosts[name] = { ns: `${tag}-${name}`, addr: `${SUBNET}.${i + 1}`, dev: 'lan0', port: `p${i}` }));
  const all = [bridgeNs, ...Object.values(hosts).map((h) => h.ns)];
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    deleteNamespaces(all);
  };
  try {
    ip(['netns', 'add', bridgeNs]);
    ip(['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    for (const h of Object.values(hosts)) {
      ip(['netns', 'add', h.ns]);
      ip(['-n', h.ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', h.ns, 'link', 'add', h.dev, 'type', 'veth', 'peer', 'name', h.port, 'netns', bridgeNs]);
      ip(['-n', bridgeNs, 'link', 'set', h.port, 'master', 'br0']);
      ip(['-n', bridgeNs, 'link', 'set', h.port, 'up']);
      ip(['-n', h.ns, 'addr', 'add', `${h.addr}/24`, 'dev', h.dev]);
      ip(['-n', h.ns, 'link', 'set', h.dev, 'up']);
      if (tbf) ip(['netns', 'exec', h.ns, 'tc', 'qdisc', 'add', 'dev', h.dev, ...tbf]);
    }
  } catch (e) {
    remove();
    const err = e as Error & { stderr?: string };
    throw new Error(`could not build the emulated network: ${String(err.stderr ?? '').trim() || err.message}`);
  }
  const host = (name: string) => {
    const h = hosts[name];
    if (!h) throw new Error(`no host ${name}`);
    return h;
  };
  return {
    bridgeNs,
    hosts,
    cut: (name, side = 'bridge') => {
      const h = host(name);
      ip(side === 'bridge' ? ['-n', bridgeNs, 'link', 'set', h.port, 'down'] : ['-n', h.ns, 'link', 'set', h.dev, 'down']);
    },
    restore: (name) => {
      const h = host(name);
      ip(['-n', h.ns, 'link', 'set', h.dev, 'up']);
      ip(['-n', bridgeNs, 'link', 'set', h.port, 'up']);
    },
    pids: () => all.flatMap(pidsIn),
    remove,
  };
}

/** The qdisc on a host's link, as `tc qdisc show` prints it (to check the limit is in place). */
export function qdiscOf(h: Host): string {
  return execFileSync('ip', ['netns', 'exec', h.ns, 'tc', 'qdisc', 'show', 'dev', h.dev], { encoding: 'utf8', timeout: 10_000 });
}

/** Bytes a host has sent through its link's qdisc so far (`tc -s qdisc show`; 0 when the link has no limit). */
export function sentBytes(h: Host): number {
  const s = execFileSync('ip', ['netns', 'exec', h.ns, 'tc', '-s', 'qdisc', 'show', 'dev', h.dev], { encoding: 'utf8', timeout: 10_000 });
  const m = /tbf[^\n]*\n\s*Sent (\d+) bytes/.exec(s);
  return m ? Number(m[1]) : 0;
}
