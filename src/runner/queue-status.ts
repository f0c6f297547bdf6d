/** What a queue holds and who works on it: job counts, recent failures, and the workers that recorded themselves. */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { HEARTBEAT_MS, workersKey, type WorkerRecord } from './queue-worker.js';
import { clientOptions, connectionOptions, type QueueTarget } from './queue-connection.js';

export interface QueueCounts {
  waiting: number;
  active: number;
  /** Waiting for a retry after a transient failure (BullMQ 'delayed'). */
  retrying: number;
  completed: number;
  failed: number;
}

export interface SeenWorker extends WorkerRecord {
  /** Seconds since its last heartbeat. */
  age: number;
  /** Heard from within three heartbeats and not stopped. */
  alive: boolean;
}

export interface QueueStatus {
  queue: string;
  url: string;
  counts: QueueCounts;
  workers: SeenWorker[];
  /** The latest failed jobs: id, what it was, why. */
  failures: { id: string; what: string; reason: string }[];
}

export async function queueStatus(t: QueueTarget, now = Date.now()): Promise<QueueStatus> {
  const connection = { ...connectionOptions(t), maxRetriesPerRequest: 1 };
  const queue = new Queue(t.name, { connection });
  const client = new Redis(t.url, { ...clientOptions(), maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  queue.on('error', () => undefined);
  try {
    const c = await queue.getJobCounts('wait', 'prioritized', 'waiting-children', 'active', 'delayed', 'completed', 'failed');
    const counts: QueueCounts = {
      waiting: (c.wait ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0),
      active: c.active ?? 0,
      retrying: c.delayed ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
    };
    const raw = await client.hgetall(workersKey(t.name));
    const workers: SeenWorker[] = Object.values(raw)
      .map((v) => {
        try {
          return JSON.parse(v) as WorkerRecord;
        } catch {
          return undefined;
        }
      })
      .filter((w): w is WorkerRecord => w !== undefined)
      .map((w) => {
        const age = Math.max(0, (now - Date.parse(w.seen)) / 1000);
        return { ...w, age, alive: w.state === 'running' && age * 1000 < 3 * HEARTBEAT_MS };
      })
      .sort((a, b) => Number(b.alive) - Number(a.alive) || a.age - b.age);
    const failedJobs = await queue.getFailed(0, 4);
    const failures = failedJobs.map((j) => {
      const d = j.data as { kind?: string; arch?: string };
      return { id: j.id ?? '?', what: `${d.kind ?? j.name} ${d.arch ?? ''}`.trim(), reason: j.failedReason };
    });
    return { queue: t.name, url: t.shown, counts, workers, failures };
  } finally {
    client.disconnect();
    await queue.close().catch(() => undefined);
  }
}

/** Seconds as `4 s`, `3 min`, `2 h`. */
function ago(s: number): string {
  return s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

export function formatQueueStatus(s: QueueStatus): string {
  const c = s.counts;
  const alive = s.workers.filter((w) => w.alive).length;
  const lines = [
    `queue '${s.queue}' at ${s.url}`,
    `jobs     waiting ${c.waiting}, active ${c.active}, retrying ${c.retrying}, completed ${c.completed}, failed ${c.failed}`,
    `workers  ${s.workers.length} seen, ${alive} alive`,
  ];
  for (const w of s.workers) {
    const state = w.alive ? `alive (seen ${ago(w.age)} ago)` : w.state === 'stopped' ? `stopped ${ago(w.age)} ago` : `silent for ${ago(w.age)}`;
    const busy = w.running.length > 0 ? `; running ${w.running.join(', ')}` : '';
    lines.push(`  ${w.name}  ${state}, ${w.concurrency} at a time, ${w.done} done, ${w.failed} failed, ${w.handedBack} handed back${busy}`);
  }
  for (const f of s.failures) lines.push(`failed   ${f.what}: ${f.reason}`);
  return lines.join('\n');
}
