import { Worker } from 'node:worker_threads';
import type { Address } from 'postal-mime';
import { rateLimited } from '../../rate-limits/rate-limiter.js';
import type { GmailHeader } from './gmail-types.js';

/**
 * RFC 822 sources (Gmail's `raw` format) parsed with postal-mime on worker threads, each parse
 * bounded in time and heap. postal-mime spends up to about 12 µs on a line of source (measured:
 * 500,000 lines of "a\r\n", 1.5 MB, took 6 s; Gmail takes messages up to 35 MB), so anyone who
 * mails a user such a message could otherwise hold the whole server's event loop for seconds to
 * minutes with one raw read: every user, every call, the health checks.
 *
 * Every parse goes to a worker, small ones too: a 2 KB message took 0.9 ms of the event loop
 * inline against 0.05 ms through a worker, in 1.0 ms of wall time instead of 0.9 (16 KB:
 * 4.8 ms inline, 4.6 ms wall and 0.09 ms of event loop through a worker). A thread starts on
 * first use, in tens of milliseconds.
 */

/**
 * The longest one parse may run. The largest legitimate messages measured fit: a 25 MB
 * attachment (Gmail's limit; 34 MB of source in base64 lines) in 0.7 s, a 10 MB plain-text body
 * in 1.4 to 1.9 s. Past it the thread is ended and the message is answered with its source only:
 * others wait behind a parse, and no message is worth more of a thread than this.
 */
export const RAW_PARSE_TIME_LIMIT_MS = 2_000;

/**
 * Threads at most. One: a thread mid-parse adds up to about 250 MB to the process (measured
 * peaks: a 10 MB plain-text body, or 500,000 short lines until the heap bound ends them), so
 * two at once could pass a replica's 512 MiB. Raw reads are rare; one costly message holds the
 * others back by at most the time limit.
 */
const MAX_WORKERS = 1;

/**
 * A thread's heap (old generation), at most; past it the thread ends like a parse past its time.
 * postal-mime keeps about 400 bytes a line: 500,000 short lines grew it to 200 MB unbounded
 * (process RSS +670 MB; +110 MB under this bound). Legitimate mail fits: a 10 MB plain-text
 * body, the most a parse of 2 s reads, peaked at 62 MB; a 25 MB attachment at 6 MB.
 */
const WORKER_HEAP_MB = 64;

/**
 * Parses waiting for a thread at most; beyond, a read is refused (rate_limited) rather than
 * queued: the last one is answered within 11 parses of 2 s, inside the default 30 s request
 * timeout. gmail_fetch_mails reads up to 5 messages at once.
 */
const MAX_WAITING = 10;

/** What compactRawMessage uses of postal-mime's answer; attachments only described. */
export interface ParsedRawMail {
  /** Every header, in order, under its name as written (postal-mime's `originalKey`). */
  headers: GmailHeader[];
  from?: Address;
  to?: Address[];
  cc?: Address[];
  subject?: string;
  text?: string;
  html?: string;
  attachments: { filename: string; mimeType: string; size: number }[];
}

/** A parse: the mail, or `tooCostly` when it ran past its time or heap (its thread was ended). */
export type RawMailParse = { mail: ParsedRawMail } | { tooCostly: true };

export interface RawMailParserLimits {
  timeLimitMs: number;
  maxWorkers: number;
  maxWaiting: number;
}

/**
 * The thread's code, run as a CommonJS script (`eval`), so it works the same from the built
 * bundle (dist/cli.js and its chunks), from dist/index.js and from the TypeScript sources the
 * tests run: it imports postal-mime by the URL the main thread resolved, the same ES module the
 * rest of the server uses. One message at a time; the source's bytes arrive transferred.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const loading = import(workerData.postalMime);
// A failed import is answered per message (below), not as this thread's death.
loading.catch(() => {});
parentPort.on('message', async (bytes) => {
  try {
    const { default: PostalMime } = await loading;
    const email = await PostalMime.parse(bytes, { attachmentEncoding: 'arraybuffer' });
    parentPort.postMessage({
      mail: {
        headers: email.headers.map((header) => ({ name: header.originalKey, value: header.value })),
        from: email.from,
        to: email.to,
        cc: email.cc,
        subject: email.subject,
        text: email.text,
        html: email.html,
        attachments: email.attachments.map((attachment) => ({
          filename: attachment.filename ?? '',
          mimeType: attachment.mimeType,
          size: typeof attachment.content === 'string' ? attachment.content.length : attachment.content.byteLength,
        })),
      },
    });
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
  }
});
`;

interface Job {
  bytes: Uint8Array;
  resolve: (parse: RawMailParse) => void;
  reject: (error: unknown) => void;
}

type WorkerAnswer = { mail: ParsedRawMail } | { error: string };

export class RawMailParser {
  /** Threads started and not yet exited: busy, idle, or ending after their time ran out. */
  private readonly threads = new Set<Worker>();
  private readonly idle: Worker[] = [];
  private readonly waiting: Job[] = [];
  private readonly ending = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly limits: RawMailParserLimits) {}

  /** Parses an RFC 822 source off the event loop; `bytes` is transferred (left empty here). */
  parse(bytes: Uint8Array): Promise<RawMailParse> {
    if (this.closed) return Promise.reject(closedError());
    if (this.waiting.length >= this.limits.maxWaiting) {
      return Promise.reject(
        rateLimited(
          `This server is decoding too many raw messages at once (${this.limits.maxWaiting} waiting); try again shortly, or ask for format "full".`,
          this.limits.timeLimitMs,
        ),
      );
    }
    return new Promise<RawMailParse>((resolve, reject) => {
      this.waiting.push({ bytes, resolve, reject });
      this.dispatch();
    });
  }

  /** Ends every thread; parses waiting or in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.reject(closedError());
    this.idle.length = 0;
    for (const worker of this.threads) this.end(worker);
    await Promise.all(this.ending);
  }

  private dispatch(): void {
    while (this.waiting.length && (this.idle.length || this.threads.size < this.limits.maxWorkers)) {
      const job = this.waiting.shift() as Job;
      this.run(this.idle.pop() ?? this.startWorker(), job);
    }
  }

  private startWorker(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { postalMime: import.meta.resolve('postal-mime') },
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    this.threads.add(worker);
    // A thread counts until it has exited: one ended for running too long takes up to a second
    // to stop, and the next parse waits for its place rather than run beside it.
    worker.on('exit', () => {
      this.threads.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      this.dispatch();
    });
    // Reported to the parse it was running, if any (below); without a listener it would throw.
    worker.on('error', () => {});
    return worker;
  }

  /** Terminates a thread; its place frees up on its 'exit'. */
  private end(worker: Worker): void {
    const ended = worker.terminate().finally(() => this.ending.delete(ended));
    this.ending.add(ended);
  }

  private run(worker: Worker, job: Job): void {
    const finish = (outcome: () => void, keepWorker: boolean) => {
      clearTimeout(timer);
      worker.off('message', answered);
      worker.off('error', died);
      worker.off('exit', died);
      if (keepWorker && !this.closed) {
        // An idle thread never keeps the process alive.
        worker.unref();
        this.idle.push(worker);
      } else {
        this.end(worker);
      }
      outcome();
      this.dispatch();
    };
    const answered = (answer: WorkerAnswer) =>
      finish(() => ('mail' in answer ? job.resolve(answer) : job.reject(new Error(answer.error))), true);
    // Out of its heap, a thread ends by itself: that message cost too much, as one past its time.
    const died = () =>
      finish(() => (this.closed ? job.reject(closedError()) : job.resolve({ tooCostly: true })), false);
    const timer = setTimeout(died, this.limits.timeLimitMs);
    worker.on('message', answered);
    worker.on('error', died);
    worker.on('exit', died);
    // Holds the process while it parses (someone awaits it); idle, it is unref'd (above).
    worker.ref();
    // A view into a pooled Buffer could not be transferred whole; a copy owns its buffer.
    const bytes =
      job.bytes.byteOffset === 0 && job.bytes.byteLength === job.bytes.buffer.byteLength
        ? job.bytes
        : job.bytes.slice();
    worker.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
  }
}

function closedError(): Error {
  return new Error('the raw mail parser is closed');
}

/** The one parser of the process, its workers made on first use. */
export const rawMailParser = new RawMailParser({
  timeLimitMs: RAW_PARSE_TIME_LIMIT_MS,
  maxWorkers: MAX_WORKERS,
  maxWaiting: MAX_WAITING,
});
