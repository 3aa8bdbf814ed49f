/**
 * What this process holds for others to see (cache locks, shared-cache leases) is given back when
 * it is interrupted: Ctrl-C in a dev server, a cancelled CI job (SIGINT, SIGTERM). While something is
 * held, a handler for both signals runs every release (each bounded in time), then lets the signal
 * do what it would have done: where nobody else listens, the process ends by the same signal.
 * Nothing is installed while nothing is held.
 */

type Release = () => void | Promise<void>;

const held = new Set<Release>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** The longest releases may take before the process ends anyway (a shared cache that does not answer). */
const RELEASE_DEADLINE_MS = 3000;
let releasing: Promise<void> | undefined;

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  releasing ??= releaseAll();
  await releasing;
  // others listening (a dev server closing itself) end the process in their own way
  const others = process.listeners(signal).filter((l) => l !== handlers[signal as keyof typeof handlers]);
  uninstall();
  if (others.length === 0) process.kill(process.pid, signal);
}

const handlers: Record<(typeof SIGNALS)[number], (signal: NodeJS.Signals) => void> = {
  SIGINT: (signal) => void onSignal(signal),
  SIGTERM: (signal) => void onSignal(signal),
};

function install(): void {
  for (const signal of SIGNALS) if (!process.listeners(signal).includes(handlers[signal])) process.on(signal, handlers[signal]);
}

function uninstall(): void {
  for (const signal of SIGNALS) process.off(signal, handlers[signal]);
}

/** Runs every release once, together, within the deadline. */
async function releaseAll(): Promise<void> {
  const all = [...held];
  held.clear();
  const done = Promise.allSettled(all.map(async (release) => release()));
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, RELEASE_DEADLINE_MS).unref())]);
}

/**
 * Registers what to give back if the process is interrupted while holding something; returns the
 * function that unregisters it (call it when the thing is released the ordinary way).
 */
export function releaseOnInterrupt(release: Release): () => void {
  held.add(release);
  install();
  return () => {
    held.delete(release);
    if (held.size === 0 && !releasing) uninstall();
  };
}

/** Whether no process with this pid runs on this host (a pid in use by someone else counts as alive). */
export function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
