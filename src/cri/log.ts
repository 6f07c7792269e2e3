/** The CRI server's log: one line per event on stderr, filtered by the configured level. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface Logger {
  /** Whether debug lines are written (so callers skip building them otherwise). */
  readonly debugEnabled: boolean;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const at = (lvl: LogLevel) => (msg: string) => {
    if (LOG_LEVELS.indexOf(lvl) >= min) write(`${new Date().toISOString()} ${lvl} ${msg}\n`);
  };
  return { debugEnabled: min === 0, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
