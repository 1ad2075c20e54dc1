/**
 * The provisioned concurrency of one function, inside its AssignmentPartition
 * (src/invoke/assignment-partition.ts): for each alias or version with a
 * config, that many execution environments initialised ahead of traffic and
 * kept so (a periodic check re-initialises any isolate the runtime evicted,
 * and an environment retired after a crash or timeout is replaced). It also
 * counts the invocations that ran on them and those that spilled over to
 * on-demand environments. Rules: src/invoke/provisioned-rules.ts.
 */
import type { Environment } from "./partition-rules";
import type { WarmSpec } from "./prewarm";
import { warmEnvironment } from "./prewarm";
import type { ProvisionedShare } from "./provisioned-rules";
import { allocation, PROVISIONED_CHECK_MS, PROVISIONED_RETRY_MS, reconcile } from "./provisioned-rules";
import { initFailureReason } from "../lambda/provisioned-concurrency";

/** What PutProvisionedConcurrencyConfig (or an alias update) asks the partition to keep. */
export interface ProvisionSpec {
  /** `<tenantId>/<functionName>`: prefix of the environment ids. */
  functionKey: string;
  qualifier: string;
  requested: number;
  /** The environments per version (a weighted alias splits them), each with what initialises it. */
  shares: Array<ProvisionedShare & { warm: WarmSpec }>;
}

/** What a config reports (Get/ListProvisionedConcurrencyConfigs) and its invocation counters. */
export interface ProvisionedReport {
  qualifier: string;
  requested: number;
  allocated: number;
  available: number;
  failure: string | null;
  /** Invocations that ran on a provisioned environment of this config. */
  provisionedInvocations: number;
  /** Invocations of its versions that found every provisioned environment busy (or not ready) and ran on-demand. */
  spilloverInvocations: number;
}

interface Config {
  spec: ProvisionSpec;
  failure: string | null;
  provisionedInvocations: number;
  spilloverInvocations: number;
}

/** The partition's side: its environments, their ids and their journal. */
export interface PoolHost {
  envs: Map<string, Environment>;
  newEnvironmentId(functionKey: string, versionKey: string): string;
  /** Journals an environment (new or changed). */
  save(env: Environment): void;
  /** Forgets an environment for good. */
  retire(envId: string): void;
  /** Asks for an alarm at `at` (the partition calls `check` from it). */
  wakeAt(at: number): void;
  env: Env;
  storage: DurableObjectStorage;
  waitUntil(promise: Promise<unknown>): void;
}

const CONFIG = "provisioned:";
const UNCONFIRMED = { allowUnconfirmed: true } as const;

export class ProvisionedPool {
  #configs = new Map<string, Config>();
  /** Environment id → when it is next checked (in memory: after a restart everything is checked at once). */
  #checkAt = new Map<string, number>();
  #warming = new Set<string>();

  constructor(private readonly host: PoolHost) {}

  async load(): Promise<void> {
    for (const [key, config] of await this.host.storage.list<Config>({ prefix: CONFIG })) this.#configs.set(key.slice(CONFIG.length), config);
    if (this.#configs.size > 0) this.host.wakeAt(Date.now());
  }

  /** Replaces the config of `spec.qualifier` and starts initialising what it lacks. */
  configure(spec: ProvisionSpec): void {
    const previous = this.#configs.get(spec.qualifier);
    const config: Config = { spec, failure: null, provisionedInvocations: previous?.provisionedInvocations ?? 0, spilloverInvocations: previous?.spilloverInvocations ?? 0 };
    this.#configs.set(spec.qualifier, config);
    this.#persist(spec.qualifier);
    const { create, retire } = reconcile(this.#environmentsOf(spec.qualifier), spec.shares);
    for (const env of retire) this.#drop(env);
    for (const versionKey of create) this.#add(spec, versionKey);
    this.host.wakeAt(Date.now());
  }

  /** Deletes a config; its environments become on-demand ones (busy ones finish their invocation first). */
  remove(qualifier: string): void {
    if (!this.#configs.delete(qualifier)) return;
    void this.host.storage.delete(CONFIG + qualifier, UNCONFIRMED);
    for (const env of this.#environmentsOf(qualifier)) this.#drop(env);
  }

  report(qualifier: string): ProvisionedReport | null {
    const config = this.#configs.get(qualifier);
    if (!config) return null;
    return {
      qualifier,
      requested: config.spec.requested,
      ...allocation(this.host.envs.values(), qualifier),
      failure: config.failure,
      provisionedInvocations: config.provisionedInvocations,
      spilloverInvocations: config.spilloverInvocations,
    };
  }

  reports(): ProvisionedReport[] {
    return [...this.#configs.keys()].flatMap((q) => this.report(q) ?? []);
  }

  /** Counts an invocation of `versionKey` that got `env`: on a provisioned environment, or spilled over. */
  count(versionKey: string, env: Environment): void {
    const qualifier = env.provisioned ?? this.#configFor(versionKey);
    const config = qualifier === undefined ? undefined : this.#configs.get(qualifier);
    if (!config || qualifier === undefined) return;
    if (env.provisioned !== undefined) config.provisionedInvocations += 1;
    else config.spilloverInvocations += 1;
    this.#persist(qualifier);
  }

  /** The config an invocation of `versionKey` on `env` belongs to, with its initialised environments (metrics name it as Resource). */
  configOf(versionKey: string, env: Environment): { qualifier: string; allocated: number } | undefined {
    const qualifier = env.provisioned ?? this.#configFor(versionKey);
    if (qualifier === undefined || !this.#configs.has(qualifier)) return undefined;
    return { qualifier, allocated: allocation(this.host.envs.values(), qualifier).allocated };
  }

  /** A provisioned environment that crashed or timed out: a new one takes its place. */
  replace(env: Environment): void {
    if (env.provisioned === undefined) return;
    const config = this.#configs.get(env.provisioned);
    this.host.retire(env.id);
    this.#checkAt.delete(env.id);
    if (!config || config.failure !== null) return;
    this.#add(config.spec, env.versionKey);
    this.host.wakeAt(Date.now());
  }

  /**
   * The alarm's work: initialises environments that are not ready and checks
   * ready idle ones whose time has come (an evicted isolate is initialised
   * again). Resolves once this round is done; returns when to run again.
   */
  async check(now: number): Promise<number | null> {
    const due = [...this.host.envs.values()].filter(
      (env) => env.provisioned !== undefined && !env.busy && !this.#warming.has(env.id) && (this.#checkAt.get(env.id) ?? 0) <= now,
    );
    await Promise.all(due.map(async (env) => this.#warm(env)));
    let next: number | null = null;
    const later = Date.now() + PROVISIONED_RETRY_MS;
    for (const env of this.host.envs.values()) {
      if (env.provisioned === undefined) continue;
      // A busy one is checked once it is idle again, not in a tight loop meanwhile.
      const at = env.busy ? Math.max(later, this.#checkAt.get(env.id) ?? 0) : (this.#checkAt.get(env.id) ?? later);
      next = next === null ? at : Math.min(next, at);
    }
    return next;
  }

  async #warm(env: Environment): Promise<void> {
    const qualifier = env.provisioned;
    const config = qualifier === undefined ? undefined : this.#configs.get(qualifier);
    const share = config?.spec.shares.find((s) => s.versionKey === env.versionKey);
    if (!config || !share || qualifier === undefined) return;
    this.#warming.add(env.id);
    try {
      const outcome = await warmEnvironment(this.host.env, share.warm, env.id, (p) => this.host.waitUntil(p));
      // The config may have changed or gone while the init ran.
      if (this.host.envs.get(env.id) !== env || this.#configs.get(qualifier) !== config) return;
      if (outcome.kind === "failed") {
        config.failure = initFailureReason(outcome.error.errorType, outcome.error.errorMessage);
        this.#persist(qualifier);
        for (const other of this.#environmentsOf(qualifier)) this.#drop(other);
        return;
      }
      if (outcome.kind === "unavailable") {
        console.warn(`provisioned-pool: ${env.id} could not be initialised: ${outcome.reason}`);
        this.#checkAt.set(env.id, Date.now() + PROVISIONED_RETRY_MS);
        return;
      }
      if (!env.ready) {
        env.ready = true;
        env.lastUsedAt = Date.now();
        this.host.save(env);
      }
      this.#checkAt.set(env.id, Date.now() + PROVISIONED_CHECK_MS);
    } finally {
      this.#warming.delete(env.id);
    }
  }

  #add(spec: ProvisionSpec, versionKey: string): void {
    const id = this.host.newEnvironmentId(spec.functionKey, versionKey);
    const env: Environment = { id, versionKey, isolationKey: "", busy: false, lastUsedAt: Date.now(), provisioned: spec.qualifier, ready: false };
    this.host.envs.set(env.id, env);
    this.host.save(env);
  }

  /** Takes an environment out of the pool: an idle one is retired, a busy one is retired when its lease ends. */
  #drop(env: Environment): void {
    this.#checkAt.delete(env.id);
    if (!env.busy) {
      this.host.retire(env.id);
      return;
    }
    delete env.provisioned;
    delete env.ready;
    env.retiring = true;
    this.host.save(env);
  }

  #environmentsOf(qualifier: string): Environment[] {
    return [...this.host.envs.values()].filter((e) => e.provisioned === qualifier);
  }

  #configFor(versionKey: string): string | undefined {
    for (const [qualifier, config] of this.#configs) if (config.spec.shares.some((s) => s.versionKey === versionKey)) return qualifier;
    return undefined;
  }

  #persist(qualifier: string): void {
    const config = this.#configs.get(qualifier);
    if (config) void this.host.storage.put(CONFIG + qualifier, config, UNCONFIRMED);
  }
}
