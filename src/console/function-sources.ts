/**
 * The function page's sections beyond configuration and metrics: its async
 * settings and failed events, its event source mappings, its durable
 * executions, and one execution's step timeline. Read through the services
 * the APIs use, in the signed-in tenant's scope only.
 */
import type { FailedEventRow } from "../data/failed-event-store";
import { DurableExecutionStore } from "../data/durable-execution-store";
import type { DurableExecutionRow } from "../data/durable-execution-store";
import { database } from "../db/client";
import { listMappings } from "../event-sources/service";
import { parseExecutionArn } from "../durable/names";
import { executionStub } from "../durable/start";
import type { EffectiveEventConfig } from "../services/event-invoke-config";
import { effectiveEventConfig } from "../services/event-invoke-config";
import { failedEventStore } from "../services/failed-events";
import type { TenantScope } from "../services/scope";

const FAILED_EVENTS_SHOWN = 25;
const MAPPINGS_SHOWN = 50;
const EXECUTIONS_SHOWN = 25;
const TIMELINE_EVENTS_SHOWN = 500;

export interface MappingRow {
  uuid: string;
  source: string;
  state: string;
  batchSize: number;
  lastProcessingResult: string;
  stream: boolean;
}

export interface FunctionSources {
  asyncConfig: EffectiveEventConfig;
  deadLetterTarget: string | undefined;
  failedEvents: FailedEventRow[];
  mappings: MappingRow[];
  executions: DurableExecutionRow[];
}

export async function functionSources(scope: TenantScope, name: string, deadLetterTarget: string | undefined): Promise<FunctionSources> {
  const [asyncConfig, failedEvents, mappings, executions] = await Promise.all([
    effectiveEventConfig(scope, name, undefined),
    failedEventStore(scope).list(name, undefined, FAILED_EVENTS_SHOWN),
    listMappings(scope, { functionName: name, maxItems: MAPPINGS_SHOWN }),
    new DurableExecutionStore(database(scope.env.DB), scope.principal.tenantId).list({ functionName: name, oldestFirst: false, limit: EXECUTIONS_SHOWN }),
  ]);
  return { asyncConfig, deadLetterTarget, failedEvents, mappings: (mappings.EventSourceMappings as Array<Record<string, unknown>>).map(mappingRow), executions };
}

function mappingRow(m: Record<string, unknown>): MappingRow {
  const source = String(m.EventSourceArn ?? "");
  return {
    uuid: String(m.UUID),
    source,
    state: String(m.State ?? ""),
    batchSize: Number(m.BatchSize ?? 0),
    lastProcessingResult: String(m.LastProcessingResult ?? ""),
    stream: source.startsWith("arn:aws:kinesis:"),
  };
}

export interface TimelineEvent {
  id: number;
  type: string;
  subType?: string;
  name?: string;
  operationId?: string;
  atMs: number;
}

export interface ExecutionTimeline {
  arn: string;
  functionName: string;
  executionName: string;
  status: string;
  startMs: number;
  endMs?: number;
  events: TimelineEvent[];
}

/** One durable execution of the tenant with its history; null when the ARN names none of the tenant's. */
export async function executionTimeline(scope: TenantScope, arn: string): Promise<ExecutionTimeline | null> {
  const parsed = parseExecutionArn(arn);
  if (!parsed || parsed.accountId !== scope.principal.accountId || parsed.region !== scope.env.REGION) return null;
  const stub = executionStub(scope.env, scope.principal.tenantId, parsed.functionName, parsed.executionName);
  const [described, history] = await Promise.all([
    stub.describe(parsed.executionId, false),
    stub.history(parsed.executionId, { includeData: false, maxItems: TIMELINE_EVENTS_SHOWN, reverse: false }),
  ]);
  // (RPC-typed answers: read as the plain records the object returns)
  const d = described.ok as Record<string, unknown> | undefined;
  const h = history.ok as Record<string, unknown> | undefined;
  if (!d || !h) return null;
  const events = (h.Events as Array<Record<string, unknown>>).map((e) => ({
    id: Number(e.EventId),
    type: String(e.EventType),
    ...(typeof e.SubType === "string" ? { subType: e.SubType } : {}),
    ...(typeof e.Name === "string" ? { name: e.Name } : {}),
    ...(typeof e.Id === "string" ? { operationId: e.Id } : {}),
    atMs: Number(e.EventTimestamp) * 1000,
  }));
  return {
    arn,
    functionName: parsed.functionName,
    executionName: parsed.executionName,
    status: String(d.Status),
    startMs: Number(d.StartTimestamp) * 1000,
    ...(typeof d.EndTimestamp === "number" ? { endMs: d.EndTimestamp * 1000 } : {}),
    events,
  };
}
