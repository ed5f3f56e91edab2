// A progress bar for long CLI runs, on stderr so that stdout stays clean for results.
//   TTY:      [=====>    ] 12/40 image.png   redrawn in place
//   not TTY:  the same line, printed every step for short runs, at each tenth for longer ones

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** No output at all when false. */
  enabled?: boolean;
  stream?: ProgressStream;
  /** Characters between the brackets. */
  barWidth?: number;
  /** Show the rate in these units per second and the time left ("12.5 images/s, 0:42 left"). */
  rateUnit?: string;
  /** The clock, in milliseconds (tests pass their own). */
  now?: () => number;
}

/**
 * stderr, or the terminal behind it: bin/gradcam.js runs the CLI as a child with stderr piped through
 * a filter, and passes the terminal's width in GRADCAM_STDERR_COLUMNS.
 */
function terminalStderr(): ProgressStream {
  const columns = Number(process.env.GRADCAM_STDERR_COLUMNS);
  if (process.stderr.isTTY || !columns) return process.stderr;
  return { isTTY: true, columns, write: (text: string) => process.stderr.write(text) };
}

export class Progress {
  private done = 0;
  private readonly enabled: boolean;
  private readonly stream: ProgressStream;
  private readonly barWidth: number;
  private readonly rateUnit?: string;
  private readonly now: () => number;
  private readonly start: number;

  constructor(
    private readonly total: number,
    options: ProgressOptions = {},
  ) {
    this.enabled = options.enabled ?? true;
    this.stream = options.stream ?? terminalStderr();
    this.barWidth = options.barWidth ?? 30;
    this.rateUnit = options.rateUnit;
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
  }

  /** Records one finished step; `label` names what was just done (a file name, say). */
  tick(label = ''): void {
    this.update(this.done + 1, label);
  }

  /** Records that `done` steps are finished. */
  update(done: number, label = ''): void {
    const before = this.done;
    this.done = Math.min(Math.max(done, before), this.total);
    if (!this.enabled) return;
    if (this.stream.isTTY) {
      this.stream.write(`\r${this.fit(this.line(label))}\x1b[K${this.done === this.total ? '\n' : ''}`);
    } else if (this.reachedNewTenth(before)) {
      this.stream.write(`${this.line(label)}\n`);
    }
  }

  /** Ends an unfinished bar's line (TTY only), e.g. before printing an error. */
  stop(): void {
    if (this.enabled && this.stream.isTTY && this.done > 0 && this.done < this.total) this.stream.write('\n');
  }

  private reachedNewTenth(before: number): boolean {
    if (this.total <= 10 || this.done === this.total) return true;
    return Math.floor((this.done * 10) / this.total) > Math.floor((before * 10) / this.total);
  }

  private line(label: string): string {
    const filled = this.total === 0 ? this.barWidth : Math.floor((this.done / this.total) * this.barWidth);
    const bar = filled >= this.barWidth ? '='.repeat(this.barWidth) : '='.repeat(filled) + '>' + ' '.repeat(this.barWidth - filled - 1);
    return `[${bar}] ${this.done}/${this.total}${this.rate()}${label ? ` ${label}` : ''}`;
  }

  private rate(): string {
    if (!this.rateUnit) return '';
    const seconds = (this.now() - this.start) / 1000;
    if (!(seconds > 0) || this.done === 0) return '';
    const perSecond = this.done / seconds;
    const left = Math.round((this.total - this.done) / perSecond);
    const clock = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    return ` ${perSecond.toFixed(perSecond < 10 ? 2 : 1)} ${this.rateUnit}/s, ${clock} left`;
  }

  /** Cuts the line to the terminal width, so that redrawing with \r never wraps onto a new line. */
  private fit(line: string): string {
    const columns = this.stream.columns;
    return columns && line.length >= columns ? line.slice(0, columns - 1) : line;
  }
}
