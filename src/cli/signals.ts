// Stopping a long command cleanly: SIGINT (Ctrl-C), SIGTERM (docker stop, systemd, Kubernetes) and
// SIGHUP ask it to finish the work in hand and exit with 128 + the signal's number, as a shell reports
// a process ended by that signal. Later signals while it finishes change nothing: the launcher
// (bin/gradcam.js) passes each one on, so one Ctrl-C can arrive twice.
import { constants } from 'node:os';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface StopRequest {
  /** Aborted at the first of the signals. */
  signal: AbortSignal;
  /** The exit status to end with once stopped: 128 + the signal's number. */
  readonly status: number | undefined;
  /** Removes the handlers (the default behaviour returns). */
  release(): void;
}

export function stopOnSignals(onStop: (signal: string) => void): StopRequest {
  const controller = new AbortController();
  let status: number | undefined;
  const handler = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    status = 128 + constants.signals[name];
    onStop(name);
    controller.abort(new Error(`stopped by ${name}`));
  };
  for (const name of STOP_SIGNALS) process.on(name, handler);
  return {
    signal: controller.signal,
    get status() {
      return status;
    },
    release() {
      for (const name of STOP_SIGNALS) process.off(name, handler);
    },
  };
}
