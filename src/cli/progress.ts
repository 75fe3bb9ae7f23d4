/**
 * A one-line progress bar on stderr, redrawn in place on a terminal and printed sparingly
 * otherwise, so logs stay readable and stdout stays clean for results.
 */
export class ProgressBar {
  private done = 0;
  private lastPrinted = -1;
  constructor(private readonly total: number, private readonly label: string, private readonly stream: NodeJS.WriteStream = process.stderr) {}

  advance(by = 1): void {
    this.done = Math.min(this.total, this.done + by);
    const percent = Math.floor((100 * this.done) / this.total);
    if (this.stream.isTTY) {
      const width = 30;
      const filled = Math.round((width * this.done) / this.total);
      this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total}`);
      if (this.done === this.total) this.stream.write('\n');
    } else if (percent >= this.lastPrinted + 25 || this.done === this.total) {
      this.lastPrinted = percent;
      this.stream.write(`${this.label}: ${this.done}/${this.total} (${percent}%)\n`);
    }
  }
}
