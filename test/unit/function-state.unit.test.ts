import { describe, expect, it } from "vitest";
import type { StateColumns } from "../../src/lambda/function-state";
import {
  activeColumns,
  creatingColumns,
  failedColumns,
  invokeBlocker,
  shownState,
  TRANSITION_TIMEOUT_MS,
  updateBlocker,
  updatingColumns,
} from "../../src/lambda/function-state";
import type { StoredConfig } from "../../src/lambda/function-config";

const ARN = "arn:aws:lambda:us-east-1:123456789012:function:f";
const NOW = 1_700_000_000_000;
const pending = { config: { Timeout: 9 } as StoredConfig, codeSha256: "new", codeSize: 10, lastModified: "t" };

describe("function states (pure)", () => {
  it("a function being created shows Pending with AWS's reason and no LastUpdateStatus", () => {
    expect(shownState(creatingColumns(NOW), NOW)).toEqual({
      fields: { State: "Pending", StateReason: "The function is being created.", StateReasonCode: "Creating" },
      pending: undefined,
    });
  });

  it("an active function shows Active / Successful", () => {
    expect(shownState(activeColumns(), NOW).fields).toEqual({ State: "Active", LastUpdateStatus: "Successful" });
  });

  it("an update in progress shows InProgress and what it will become", () => {
    const row = updatingColumns(activeColumns(), pending, NOW);
    expect(shownState(row, NOW + 1000)).toEqual({
      fields: {
        State: "Active",
        LastUpdateStatus: "InProgress",
        LastUpdateStatusReason: "The function is being created.",
        LastUpdateStatusReasonCode: "Creating",
      },
      pending,
    });
  });

  it("a transition older than the timeout reads as failed and stops blocking", () => {
    const late = NOW + TRANSITION_TIMEOUT_MS + 1;
    const creating = creatingColumns(NOW);
    expect(shownState(creating, late).fields).toMatchObject({ State: "Failed", StateReasonCode: "InternalError" });
    expect(updateBlocker(creating, ARN, late)).toBeNull();
    expect(invokeBlocker(creating, late)?.message).toMatch(/following state: Failed$/);
    const updating = updatingColumns(activeColumns(), pending, NOW);
    expect(shownState(updating, late)).toEqual({
      fields: { State: "Active", LastUpdateStatus: "Failed", LastUpdateStatusReason: expect.any(String), LastUpdateStatusReasonCode: "InternalError" },
      pending: undefined,
    });
    expect(updateBlocker(updating, ARN, late)).toBeNull();
    // Just inside the timeout it still blocks.
    expect(updateBlocker(updating, ARN, NOW + TRANSITION_TIMEOUT_MS)).not.toBeNull();
  });

  it("updates are refused while creating or updating, with AWS's messages", () => {
    const creating = updateBlocker(creatingColumns(NOW), ARN, NOW);
    expect([creating?.status, creating?.type, creating?.message]).toEqual([
      409,
      "ResourceConflictException",
      "The operation cannot be performed at this time. The function is currently in the following state: Pending",
    ]);
    const updating = updateBlocker(updatingColumns(activeColumns(), pending, NOW), ARN, NOW);
    expect(updating?.message).toBe(`The operation cannot be performed at this time. An update is in progress for resource: ${ARN}`);
    expect(updateBlocker(activeColumns(), ARN, NOW)).toBeNull();
  });

  it("invocations: Pending and Failed are refused, an update in progress runs the previous code", () => {
    expect(invokeBlocker(creatingColumns(NOW), NOW)?.message).toMatch(/following state: Pending$/);
    expect(invokeBlocker(updatingColumns(activeColumns(), pending, NOW), NOW)).toBeNull();
    expect(invokeBlocker(activeColumns(), NOW)).toBeNull();
    const failedCreate: StateColumns = failedColumns(creatingColumns(NOW), "bad", "InvalidZipFileException");
    expect(invokeBlocker(failedCreate, NOW)?.message).toMatch(/following state: Failed$/);
  });

  it("a failed update keeps the function Active; a failed create makes it Failed; success after a failed create is Active", () => {
    const updateFailed = failedColumns(updatingColumns(activeColumns(), pending, NOW), "why", "InvalidZipFileException");
    expect(shownState(updateFailed, NOW).fields).toEqual({
      State: "Active",
      LastUpdateStatus: "Failed",
      LastUpdateStatusReason: "why",
      LastUpdateStatusReasonCode: "InvalidZipFileException",
    });
    const createFailed = failedColumns(creatingColumns(NOW), "why", "InvalidZipFileException");
    expect(shownState(createFailed, NOW).fields).toMatchObject({ State: "Failed", StateReason: "why", LastUpdateStatus: "Failed" });
    // Updating a failed function keeps it Failed until the update succeeds.
    expect(shownState(updatingColumns(createFailed, pending, NOW), NOW).fields).toMatchObject({ State: "Failed", LastUpdateStatus: "InProgress" });
  });
});
