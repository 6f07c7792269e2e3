/** Where the runtime's warnings go: stderr by default, the --log file for the CLI, or the caller's sink. */
export type LogSink = (level: 'debug' | 'info' | 'warning' | 'error', message: string) => void;

let sink: LogSink = (level, message) => {
  if (level !== 'debug') process.stderr.write(`sifkube-oci: ${level}: ${message}\n`);
};

export function setLogSink(s: LogSink): void {
  sink = s;
}

export function log(level: Parameters<LogSink>[0], message: string): void {
  sink(level, message);
}
