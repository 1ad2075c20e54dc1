/**
 * The Worker's side of streams: which tenant's directory to ask, how a
 * StreamName or StreamARN names a stream, and the stub of a shard. Another
 * tenant's stream is indistinguishable from a missing one: a name is looked
 * up only in the caller's own directory, and an ARN with another account or
 * region is answered as that name missing from the caller's account.
 */
import type { Principal } from "../auth/principal";
import type { StreamInfo } from "./directory-object";
import { StreamDirectory } from "./directory-object";
import { invalidArgument, streamNotFound } from "./errors";
import { parseStreamArn } from "./names";
import type { StreamRefInput } from "./shapes";
import { StreamShard } from "./shard-object";

export function directoryOf(env: Env, tenantId: string): DurableObjectStub<StreamDirectory> {
  return StreamDirectory.of(env, tenantId);
}

export function shardOf(env: Env, tenantId: string, streamId: string, shardIndex: number): DurableObjectStub<StreamShard> {
  return StreamShard.of(env, tenantId, streamId, shardIndex);
}

export interface StreamTarget {
  name: string;
  /** False when the ARN names another account or region: the caller can have no such stream. */
  reachable: boolean;
}

/** The stream an operation names; when both are given, the ARN's name must agree with StreamName. */
export function streamTarget(env: Env, principal: Principal, input: StreamRefInput): StreamTarget {
  if (input.StreamARN !== undefined) {
    const arn = parseStreamArn(input.StreamARN);
    if (!arn) throw invalidArgument(`StreamARN ${input.StreamARN} is not a valid stream ARN.`);
    if (input.StreamName !== undefined && input.StreamName !== arn.streamName) {
      throw invalidArgument(`StreamName ${input.StreamName} does not match the stream name in StreamARN ${input.StreamARN}.`);
    }
    return { name: arn.streamName, reachable: arn.accountId === principal.accountId && arn.region === env.REGION };
  }
  if (input.StreamName !== undefined) return { name: input.StreamName, reachable: true };
  throw invalidArgument("Either StreamName or StreamARN must be provided.");
}

/** The caller's stream, in any status; ResourceNotFoundException when the caller has none by that name. */
export async function findStream(env: Env, principal: Principal, input: StreamRefInput): Promise<StreamInfo> {
  const target = streamTarget(env, principal, input);
  const info = target.reachable ? await directoryOf(env, principal.tenantId).get(target.name) : null;
  if (!info) throw streamNotFound(target.name, principal.accountId);
  return info;
}

/** The caller's stream when it can take reads and writes (ACTIVE); otherwise as missing, as Kinesis answers. */
export async function activeStream(env: Env, principal: Principal, input: StreamRefInput): Promise<StreamInfo> {
  const info = await findStream(env, principal, input);
  if (info.status !== "ACTIVE") throw streamNotFound(info.name, principal.accountId);
  return info;
}
