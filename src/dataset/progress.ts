/**
 * Progress of a dataset run on stderr: on a terminal one line redrawn in place (done/total,
 * images per second, time left, files skipped); elsewhere, such as a log file or a Kubernetes pod,
 * a plain line every `intervalSeconds`; nothing when quiet.
 */
export interface ProgressOptions {
  readonly total: number;
  /** Positions already done when this run started (a resumed run). */
  readonly start: number;
  readonly label: string;
  readonly quiet: boolean;
  readonly intervalSeconds: number;
  readonly stream?: NodeJS.WriteStream;
}

const clock = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const mmss = `${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
};

export class DatasetProgress {
  private readonly stream: NodeJS.WriteStream;
  private readonly began = performance.now();
  private lastDrawn = -Infinity;
  private done: number;
  private skipped = 0;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.done = options.start;
  }

  update(done: number, skipped: number): void {
    this.done = done;
    this.skipped = skipped;
    const now = performance.now();
    const every = this.stream.isTTY ? 250 : this.options.intervalSeconds * 1000;
    if (!this.options.quiet && now - this.lastDrawn >= every) {
      this.lastDrawn = now;
      this.draw(now);
    }
  }

  /** The last state, and a newline after an in-place line. */
  finish(): void {
    if (this.options.quiet) return;
    this.draw(performance.now());
    if (this.stream.isTTY) this.stream.write('\n');
  }

  private draw(now: number): void {
    const { total, start, label } = this.options;
    const seconds = (now - this.began) / 1000;
    const rate = seconds > 0 ? (this.done - start) / seconds : 0;
    const eta = rate > 0 ? (total - this.done) / rate : Infinity;
    const percent = total === 0 ? 100 : Math.floor((100 * this.done) / total);
    const line = `${label} ${this.done}/${total} (${percent}%)  ${rate.toFixed(1)} images/s  ETA ${clock(eta)}  skipped ${this.skipped}`;
    this.stream.write(this.stream.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
  }
}
