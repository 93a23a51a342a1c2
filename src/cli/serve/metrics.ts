/**
 * What `keyward serve` counts, and its Prometheus text exposition (format
 * 0.0.4): decisions by result and reason, refused requests by why, the time
 * a decision takes in the service (from the request's headers parsed to the
 * answer written), the store's generation and health, and commits.
 */

/** Upper bounds of the latency histogram, in seconds. */
const BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class Metrics {
  /** "decision reason" → count. */
  readonly decisions = new Map<string, number>();
  readonly refused = new Map<string, number>();
  private readonly buckets = new Float64Array(BUCKETS.length + 1);
  private latencySum = 0;
  private latencyCount = 0;
  storeGeneration = 0;
  storeDegraded = false;
  storeLoadedAtMs = 0;
  reloads = 0;
  reloadFailures = 0;
  commits = 0;
  commitFailures = 0;
  lastCommitMs = 0;
  /** Events waiting for a commit, asked when the metrics are read. */
  eventsPending: () => number = () => 0;
  eventsDropped = 0;
  readonly startedMs = Date.now();

  decided(decision: string, reason: string, seconds: number): void {
    const label = `${decision} ${reason}`;
    this.decisions.set(label, (this.decisions.get(label) ?? 0) + 1);
    this.observe(seconds);
  }

  refusedRequest(why: string, seconds: number): void {
    this.refused.set(why, (this.refused.get(why) ?? 0) + 1);
    this.observe(seconds);
  }

  private observe(seconds: number): void {
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
    this.buckets[i]++;
    this.latencySum += seconds;
    this.latencyCount++;
  }

  /** Decisions counted so far, by decision. */
  totals(): {allow: number; deny: number; badRequests: number} {
    let allow = 0;
    let deny = 0;
    for (const [label, n] of this.decisions)
      if (label.startsWith('allow ')) allow += n;
      else deny += n;
    let badRequests = 0;
    for (const n of this.refused.values()) badRequests += n;
    return {allow, deny, badRequests};
  }

  /** The Prometheus text of every metric. */
  text(nowMs: number): string {
    const lines: string[] = [];
    const family = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family('keyward_decisions_total', 'counter', 'Decisions answered, by decision and reason.');
    for (const [label, n] of [...this.decisions].sort()) {
      const [decision, reason] = label.split(' ');
      lines.push(`keyward_decisions_total{decision="${decision}",reason="${reason}"} ${n}`);
    }
    family('keyward_bad_requests_total', 'counter', 'Requests answered 400 (no key, a bad address), by why.');
    for (const [why, n] of [...this.refused].sort()) lines.push(`keyward_bad_requests_total{why="${why}"} ${n}`);
    family('keyward_decision_duration_seconds', 'histogram', 'Time from the request parsed to the answer written, in the service.');
    let cumulative = 0;
    BUCKETS.forEach((bound, i) => {
      cumulative += this.buckets[i];
      lines.push(`keyward_decision_duration_seconds_bucket{le="${bound}"} ${cumulative}`);
    });
    cumulative += this.buckets[BUCKETS.length];
    lines.push(`keyward_decision_duration_seconds_bucket{le="+Inf"} ${cumulative}`);
    lines.push(`keyward_decision_duration_seconds_sum ${this.latencySum}`, `keyward_decision_duration_seconds_count ${this.latencyCount}`);
    family('keyward_store_generation', 'gauge', 'How many times the store was loaded (1 at start, +1 per reload).');
    lines.push(`keyward_store_generation ${this.storeGeneration}`);
    family('keyward_store_degraded', 'gauge', '1 while the store file cannot be read and decisions come from the last good store.');
    lines.push(`keyward_store_degraded ${this.storeDegraded ? 1 : 0}`);
    family('keyward_store_loaded_timestamp_seconds', 'gauge', 'When the store answering decisions was loaded.');
    lines.push(`keyward_store_loaded_timestamp_seconds ${this.storeLoadedAtMs / 1000}`);
    family('keyward_store_reload_failures_total', 'counter', 'Store changes that could not be read (the last good store kept).');
    lines.push(`keyward_store_reload_failures_total ${this.reloadFailures}`);
    family('keyward_commits_total', 'counter', 'Commits of decision events to the store that succeeded.');
    lines.push(`keyward_commits_total ${this.commits}`);
    family('keyward_commit_failures_total', 'counter', 'Commits that failed (their events kept for the next commit).');
    lines.push(`keyward_commit_failures_total ${this.commitFailures}`);
    // (Nothing waiting is no lag: a quiet instance must not set off an alert on it.)
    family('keyward_commit_lag_seconds', 'gauge', 'Seconds since the last successful commit (since the start before the first) while events wait; 0 when none do.');
    const lag = this.eventsPending() === 0 ? 0 : (nowMs - (this.lastCommitMs || this.startedMs)) / 1000;
    lines.push(`keyward_commit_lag_seconds ${lag.toFixed(3)}`);
    family('keyward_events_pending', 'gauge', 'Decision events waiting for a commit (kept from failed commits included).');
    lines.push(`keyward_events_pending ${this.eventsPending()}`);
    family('keyward_events_dropped_total', 'counter', 'Decision events dropped because too many were waiting for a commit that kept failing.');
    lines.push(`keyward_events_dropped_total ${this.eventsDropped}`);
    return `${lines.join('\n')}\n`;
  }
}
