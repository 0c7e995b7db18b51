// Human-readable durations for progress ETAs and log messages: 850ms, 3.4s, 42s, 4m19s, 2h05m, 3d04h.
// Tested by progress-bar.test.ts.

/** Formats a duration in milliseconds; non-finite or negative input gives '--' (an unknown ETA). */
export function formatDuration(ms: number): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '--';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  const total = Math.round(s);
  if (total < 60) return `${total}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  const m = Math.floor(total / 60);
  if (m < 60) return `${m}m${pad(total % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${pad(m % 60)}m`;
  return `${Math.floor(h / 24)}d${pad(h % 24)}h`;
}
