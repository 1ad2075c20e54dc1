import type { BuiltCode, PreparedCode } from "../code/build";
import { bundlePrepared } from "../code/build";
import type { CodeRef, StagedCode } from "../data/code-store";
import type { VersionRow } from "../data/function-store";
import { LATEST } from "../data/function-store";
import { LambdaError } from "../errors";
import type { PendingUpdate, StateColumns } from "../lambda/function-state";
import { activeColumns, failedColumns } from "../lambda/function-state";
import { forgetFunction } from "../invoke/target";
import type { TenantScope } from "./scope";

/**
 * The slow half of CreateFunction and the Update* operations: bundling the
 * code and storing it, after the response went out. The route hands it to
 * ExecutionContext.waitUntil (`Defer`). waitUntil was chosen over a queue or
 * a Durable Object because the work is one bounded step (bundle, store, one
 * conditional row write) that already ran inside requests before, its input
 * (the uploaded zip, up to 50 MB) is in this isolate's memory and would
 * otherwise have to be stored first, and a step that dies with its isolate
 * is caught anyway: function-state.ts reads a transition older than
 * TRANSITION_TIMEOUT_MS as failed, so the user sees `Failed` and can update
 * again. Every write is conditional on the revision the request wrote, so
 * a late finisher never overwrites a newer change.
 */
export type Defer = (work: Promise<void>) => void;

/** Code written to R2, with the size Lambda reports. */
export type StoredCode = StagedCode & { codeSize: number };

/** After CreateFunction answered: bundle, store, and make its rows Active, or Failed with the reason. */
export async function finishCreate(
  scope: TenantScope,
  name: string,
  rows: { version: string; revisionId: string; columns: StateColumns }[],
  prepared: PreparedCode,
): Promise<void> {
  const built = await buildOrFailure(scope, prepared);
  if (built instanceof BuildFailure) {
    for (const row of rows) {
      await scope.store.patchVersion(name, row.version, row.revisionId, {
        ...failedColumns(row.columns, built.reason, built.code),
        revisionId: crypto.randomUUID(),
      });
    }
    forgetFunction(scope.principal.tenantId, name);
    return;
  }
  const staged = await storeCode(scope, built);
  let written = false;
  for (const row of rows) {
    const ok = await scope.store.patchVersion(name, row.version, row.revisionId, {
      ...activeColumns(),
      bundleKey: staged.bundleKey,
      revisionId: crypto.randomUUID(),
    });
    written ||= ok;
  }
  forgetFunction(scope.principal.tenantId, name);
  // Deleted or replaced meanwhile: the code is nobody's.
  if (written) await scope.code.confirm(staged);
  else await scope.code.release([staged]);
}

/**
 * After an update answered: build what it needs (nothing for a change of
 * configuration alone), then apply `pending` to $LATEST; on failure $LATEST
 * keeps the code and configuration it ran before, with LastUpdateStatus
 * Failed and the reason.
 */
export async function finishUpdate(
  scope: TenantScope,
  name: string,
  updating: VersionRow,
  pending: PendingUpdate,
  prepared: PreparedCode | undefined,
): Promise<void> {
  const built = prepared ? await buildOrFailure(scope, prepared) : undefined;
  if (built instanceof BuildFailure) {
    await scope.store.patchVersion(name, LATEST, updating.revisionId, {
      ...failedColumns(updating, built.reason, built.code),
      revisionId: crypto.randomUUID(),
    });
    forgetFunction(scope.principal.tenantId, name);
    return;
  }
  const staged = built ? await storeCode(scope, built) : undefined;
  const written = await scope.store.patchVersion(name, LATEST, updating.revisionId, {
    ...activeColumns(),
    config: pending.config,
    codeSha256: pending.codeSha256,
    codeSize: pending.codeSize,
    lastModified: pending.lastModified,
    bundleKey: staged?.bundleKey ?? updating.bundleKey,
    revisionId: crypto.randomUUID(),
  });
  forgetFunction(scope.principal.tenantId, name);
  if (!staged) return;
  if (!written) {
    await scope.code.release([staged]);
    return;
  }
  await scope.code.confirm(staged);
  const previous: CodeRef = updating;
  if (previous.bundleKey !== staged.bundleKey || previous.codeSha256 !== staged.codeSha256) await scope.code.release([previous]);
}

/** Runs `work` after the response, logging what it could not record (it must never reject unseen). */
export function runLater(defer: Defer, what: string, work: () => Promise<void>): void {
  defer(
    work().catch((err: unknown) => {
      console.error(`${what} did not finish`, err);
    }),
  );
}

export async function storeCode(scope: TenantScope, built: BuiltCode): Promise<StoredCode> {
  return { ...(await scope.code.stage(built)), codeSize: built.codeSize };
}

class BuildFailure {
  constructor(
    readonly reason: string,
    readonly code: string,
  ) {}
}

/**
 * The bundle, or why there is none: the code's own faults (a module that
 * does not parse or link, a missing handler export) are
 * InvalidZipFileException-coded as AWS codes a package it cannot use;
 * anything else is InternalError.
 */
async function buildOrFailure(scope: TenantScope, prepared: PreparedCode): Promise<BuiltCode | BuildFailure> {
  try {
    return await bundlePrepared(scope.env.LOADER, prepared);
  } catch (err) {
    if (err instanceof LambdaError && err.status < 500) return new BuildFailure(err.message, "InvalidZipFileException");
    console.error("bundling failed", err);
    return new BuildFailure("The function's code could not be built. Update the function code to try again.", "InternalError");
  }
}
