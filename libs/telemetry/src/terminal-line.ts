// The owner of a terminal's last line: a progress bar draws its status there and redraws it with '\r', and a log
// line printed while it is shown must not land on the same line. Everything that writes to stderr while a bar may
// be up (the logger, the launcher's copy of its children's lines, the CLI's error line) writes through the one
// TerminalLine of that stream: a line first clears the bar ('\r\x1b[K'), is printed, and the bar is drawn again
// below it, in a single write. Off a TTY nothing is drawn and lines pass straight through.
// Tested by terminal-line.test.ts (with a small terminal model).

/** The part of a stream a TerminalLine needs: process.stderr satisfies it, and so does a test double. */
export interface LineStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Erases the line the cursor is on: back to column 0, then clear to the end of the line. */
export const CLEAR_LINE = '\r\x1b[K';

export class TerminalLine {
  readonly stream: LineStream;
  /** The status line on screen now ('' = none). */
  private status = '';

  constructor(stream: LineStream) {
    this.stream = stream;
  }

  get isTTY(): boolean {
    return this.stream.isTTY === true;
  }

  /** True while a status line is drawn (lines written now go above it). */
  get hasStatus(): boolean {
    return this.status !== '';
  }

  /** Draws `text` (one line, no newline) as the status line, in place of the previous one. */
  drawStatus(text: string): void {
    this.status = text;
    this.stream.write(`\r${text}\x1b[K`);
  }

  /** Leaves the status line on screen as it is and moves below it: from now on it is ordinary output. */
  endStatus(): void {
    if (this.status === '') return;
    this.status = '';
    this.stream.write('\n');
  }

  /**
   * Writes whole lines (a newline is added when `text` does not end with one). With a status line drawn on a TTY,
   * it is cleared first and drawn again under the new lines, all in one write.
   */
  writeLines(text: string): void {
    const body = text.endsWith('\n') ? text : `${text}\n`;
    if (this.status !== '' && this.isTTY) this.stream.write(`${CLEAR_LINE}${body}\r${this.status}\x1b[K`);
    else this.stream.write(body);
  }
}

const owners = new WeakMap<LineStream, TerminalLine>();

/**
 * The one TerminalLine of `stream` (default process.stderr), shared by every writer of that stream in this
 * process: a ProgressBar and a logger given the same stream coordinate through it.
 */
export function terminalLine(stream: LineStream = process.stderr): TerminalLine {
  let owner = owners.get(stream);
  if (!owner) {
    owner = new TerminalLine(stream);
    owners.set(stream, owner);
  }
  return owner;
}
