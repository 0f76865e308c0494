/**
 * What the terminal client may do to the terminal: colours only on a TTY and never with
 * NO_COLOR (https://no-color.org), a spinner only on a TTY (nothing on a pipe).
 */
export interface Output {
  write(text: string): void;
  isTTY: boolean;
}

export interface Style {
  dim(s: string): string;
  bold(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const code = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain = (s: string): string => s;

export function styleFor(out: Output, env: NodeJS.ProcessEnv): Style {
  const colour = out.isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === '');
  if (!colour) return { dim: plain, bold: plain, red: plain, green: plain, yellow: plain, cyan: plain };
  return {
    dim: code(2, 22),
    bold: code(1, 22),
    red: code(31, 39),
    green: code(32, 39),
    yellow: code(33, 39),
    cyan: code(36, 39),
  };
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A one-line status on a TTY (`⠋ running…`), erased before anything else is written. */
export class Spinner {
  private timer: NodeJS.Timeout | null = null;
  private frame = 0;
  private label = '';

  constructor(private readonly out: Output) {}

  start(label: string): void {
    this.label = label;
    if (!this.out.isTTY || this.timer) return;
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
    this.draw();
  }

  update(label: string): void {
    this.label = label;
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    this.out.write('\r\u001b[2K');
  }

  private draw(): void {
    this.out.write(`\r\u001b[2K${FRAMES[this.frame++ % FRAMES.length]} ${this.label}`);
  }
}
