// The examples' tests call Jest's `jest` object; vitest's `vi` has the same
// mocking API. `jest.setTimeout` (5 s in three context-validation tests) is
// left at the integration config's 120 s: a cold start of a 2 MB bundle on
// this loaded machine can take longer than 5 s.
import { vi } from "vitest";

(globalThis as Record<string, unknown>).jest = { ...vi, fn: vi.fn, spyOn: vi.spyOn, mock: vi.mock, setTimeout: () => undefined };
