// Single-line terminal progress bar for the training loop, e.g.
//   [█████░░░░░] 120/1000 12%  3.4 step/s  ETA 4m19s  d_loss 1.234  g_loss 0.876
// It only draws on a TTY; on a pipe or file it is silent (the trainer logs progress with pino instead), so logs
// never fill with carriage returns. The bar draws through its stream's TerminalLine (terminal-line.ts), so log lines
// written through the same owner appear above it instead of on its line. Tested by progress-bar.test.ts.
import { formatDuration } from './format-duration';
import { terminalLine, type TerminalLine } from './terminal-line';

/** The part of a stream the bar needs; process.stderr satisfies it, and so does a test double. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBarOptions {
  /** Step count at completion (> 0). */
  total: number;
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Printed before the bar, e.g. 'train'. */
  label?: string;
  /** First step of this run (a resumed run starts mid-way; the rate counts only steps done in this process). */
  startStep?: number;
  /** Bar width in cells; default 20. */
  width?: number;
  /** Clock in ms, injectable for tests; default performance.now. */
  now?: () => number;
  /** Minimum ms between redraws (the last step always draws); default 100. */
  minRedrawMs?: number;
  /** Owner of the stream's last line; default the stream's shared one (terminalLine(stream)). */
  line?: TerminalLine;
}

/** Seconds over which the steps/s EMA forgets: long enough to smooth per-step jitter, short enough to track changes. */
const RATE_TAU_S = 5;
/** Rate samples are taken over at least this many ms so a burst of fast calls doesn't produce absurd rates. */
const RATE_SAMPLE_MS = 200;

export class ProgressBar {
  readonly isTTY: boolean;
  readonly total: number;
  private readonly stream: ProgressStream;
  private readonly line: TerminalLine;
  private readonly label: string;
  private readonly width: number;
  private readonly now: () => number;
  private readonly minRedrawMs: number;
  private sampleStep: number;
  private sampleTime: number;
  private rate: number | null = null; // steps per second (EMA)
  private lastDraw = -Infinity;
  private lastLine = '';
  private finished = false;

  constructor(opts: ProgressBarOptions) {
    if (!opts || !Number.isFinite(opts.total) || opts.total <= 0) {
      throw new Error(`ProgressBar: total must be a positive number, got ${String(opts?.total)}`);
    }
    this.total = opts.total;
    this.stream = opts.stream ?? process.stderr;
    this.isTTY = this.stream.isTTY === true;
    this.line = opts.line ?? terminalLine(this.stream);
    this.label = opts.label ?? '';
    this.width = Math.max(1, Math.floor(opts.width ?? 20));
    this.now = opts.now ?? (() => performance.now());
    this.minRedrawMs = opts.minRedrawMs ?? 100;
    this.sampleStep = opts.startStep ?? 0;
    this.sampleTime = this.now();
  }

  /** Records that `step` steps are complete and redraws (throttled) with the given metric fields. */
  update(step: number, fields: Record<string, number | string> = {}): void {
    if (!this.isTTY || this.finished) return;
    const t = this.now();
    const dt = t - this.sampleTime;
    if (dt >= RATE_SAMPLE_MS && step > this.sampleStep) {
      const inst = ((step - this.sampleStep) * 1000) / dt;
      // Time-weighted EMA: the weight of a sample grows with how long it spans, independent of the call rate.
      const alpha = 1 - Math.exp(-dt / 1000 / RATE_TAU_S);
      this.rate = this.rate === null ? inst : this.rate + alpha * (inst - this.rate);
      this.sampleStep = step;
      this.sampleTime = t;
    }
    if (t - this.lastDraw < this.minRedrawMs && step < this.total) return;
    this.lastDraw = t;
    this.draw(this.render(step, fields));
  }

  /** Leaves the last drawn line in place and moves to a new line. */
  done(): void {
    if (!this.isTTY || this.finished) return;
    this.finished = true;
    if (this.lastLine !== '') this.line.endStatus();
  }

  /** Builds the line (without control codes) — exposed for tests and for non-TTY callers that want the text. */
  render(step: number, fields: Record<string, number | string> = {}): string {
    const frac = Math.min(1, Math.max(0, step / this.total));
    const filled = Math.round(frac * this.width);
    const bar = '█'.repeat(filled) + '░'.repeat(this.width - filled);
    const parts = [
      `${this.label ? this.label + ' ' : ''}[${bar}] ${step}/${this.total} ${Math.floor(frac * 100)}%`,
      this.rate === null ? '-- step/s' : `${formatRate(this.rate)} step/s`,
      `ETA ${this.rate === null || this.rate <= 0 ? '--' : formatDuration(((this.total - step) / this.rate) * 1000)}`,
    ];
    for (const [k, v] of Object.entries(fields)) parts.push(`${k} ${formatValue(v)}`);
    return parts.join('  ');
  }

  private draw(line: string): void {
    const cols = this.stream.columns;
    // Never wrap: a wrapped line can't be redrawn with '\r' and would scroll the terminal on every update.
    const fitted = cols && cols > 1 && [...line].length > cols - 1 ? [...line].slice(0, cols - 1).join('') : line;
    this.lastLine = fitted;
    this.line.drawStatus(fitted);
  }
}

function formatRate(r: number): string {
  if (r >= 100) return r.toFixed(0);
  if (r >= 10) return r.toFixed(1);
  return r.toFixed(2);
}

/** Metric values: 4 significant digits for ordinary magnitudes, exponent notation for tiny/huge ones. */
function formatValue(v: number | string): string {
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return v.toFixed(3);
}
