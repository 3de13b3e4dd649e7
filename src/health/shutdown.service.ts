import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { AppLogger } from '../telemetry/logger';

export type DrainHook = () => Promise<void> | void;

interface Closable {
  close(): Promise<void>;
}

/**
 * Graceful shutdown (SIGTERM/SIGINT, wired in `main.ts`):
 * 1. `draining` turns true: readiness answers 503, new requests get 503 SHUTTING_DOWN;
 * 2. in-flight predictions finish (bounded by SHUTDOWN_TIMEOUT_MS);
 * 3. the registered drain hooks run (buffer flushes: prediction store, log shipping, …);
 * 4. Nest closes (HTTP server, then every `onApplicationShutdown`), and the process exits 0.
 *
 * Other modules register flushes with `onDrained(name, hook)`, or implement Nest's
 * `onApplicationShutdown` (runs in step 4, after HTTP is closed).
 */
@Injectable()
export class ShutdownService {
  private state: 'running' | 'draining' | 'closed' = 'running';
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly hooks: { name: string; hook: DrainHook }[] = [];
  private closing: Promise<number> | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly logger: AppLogger,
  ) {}

  get draining(): boolean {
    return this.state !== 'running';
  }

  /** Requests being answered by the prediction path now. */
  get activeRequests(): number {
    return this.inFlight;
  }

  /** A prediction starts: call `leave()` when its answer is built. */
  enter(): void {
    this.inFlight++;
  }

  leave(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Runs after in-flight requests finished and before the app closes; bounded by the shutdown timeout. */
  onDrained(name: string, hook: DrainHook): void {
    this.hooks.push({ name, hook });
  }

  /** Drains and closes `app`; resolves with the exit code (0 unless the deadline was missed). Idempotent. */
  shutdown(app: Closable, signal = 'SIGTERM'): Promise<number> {
    this.closing ??= this.run(app, signal);
    return this.closing;
  }

  private async run(app: Closable, signal: string): Promise<number> {
    const deadline = Date.now() + this.config.SHUTDOWN_TIMEOUT_MS;
    this.state = 'draining';
    this.logger.info(`${signal} received: draining ${this.inFlight} in-flight request(s)`, {
      'event.action': 'shutdown',
    });
    let clean = await this.waitIdle(deadline);
    if (!clean) {
      this.logger.warn(`Shutdown timeout: ${this.inFlight} request(s) still in flight`, {
        'event.action': 'shutdown',
      });
    }
    for (const { name, hook } of this.hooks) {
      try {
        const finished = await withDeadline(Promise.resolve(hook()), deadline);
        if (!finished) {
          clean = false;
          this.logger.warn(`Drain hook "${name}" did not finish in time`, { 'event.action': 'shutdown' });
        }
      } catch (error) {
        this.logger.error(`Drain hook "${name}" failed`, {
          'event.action': 'shutdown',
          'error.message': error instanceof Error ? error.message : String(error),
        });
      }
    }
    // Closing gets its own grace period: sessions, databases and exporters must still be released.
    const closed = await withDeadline(app.close(), Math.max(deadline, Date.now() + 5_000)).catch(
      (error: unknown) => {
        this.logger.error('Error while closing', {
          'event.action': 'shutdown',
          'error.message': error instanceof Error ? error.message : String(error),
        });
        return false;
      },
    );
    this.state = 'closed';
    return closed ? 0 : 1;
  }

  private waitIdle(deadline: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return withDeadline(new Promise<void>((resolve) => this.idleWaiters.push(resolve)), deadline);
  }
}

/** true when `work` settled before `deadline` (epoch ms); rejections propagate. */
async function withDeadline(work: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
