import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { InvokeCommand, type LambdaClient, PutFunctionEventInvokeConfigCommand } from "@aws-sdk/client-lambda";
import chromium from "@sparticuz/chromium";
import { type Browser, chromium as playwright, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { bundled } from "./bundle";
import { createActiveFunction, createTenantWithKey, lambdaClient, type Platform, ROOT, startPlatform, type TenantCredentials } from "./harness";

// The web console in a real headless Chromium (playwright-core driving the
// Chromium that @sparticuz/chromium ships through npm) against `wrangler dev`,
// and Lambda's metrics through the AWS CLI. Screenshots of each page go to
// test-results/.

const AWS_CLI = "/root/.pyenv/shims/aws";
const run = promisify(execFile);
const SHOTS = path.join(ROOT, "test-results");
const FUNCTION = "console-orders";
const DURABLE = "console-workflow";
const WORKFLOW = `const { withDurableExecution } = require("@aws/durable-execution-sdk-js");
exports.handler = withDurableExecution(async (event, ctx) => {
  const reserved = await ctx.step("reserve-stock", async () => "reserved");
  await ctx.wait({ seconds: 1 });
  const charged = await ctx.step("charge-card", async () => "charged");
  return { reserved, charged };
});`;
const HANDLER = `exports.handler = async (event) => {
  console.log("order", event.order ?? "none");
  if (event.fail) throw new Error("payment declined");
  return { ok: true, order: event.order ?? null };
};`;

let platform: Platform;
let acme: TenantCredentials;
let other: TenantCredentials;
let lambda: LambdaClient;
let browser: Browser;
const pageErrors: string[] = [];

async function newPage(viewport = { width: 1280, height: 800 }): Promise<Page> {
  // A fixed locale: uPlot formats dates with Intl, which rejects the POSIX locale a bare container reports.
  const context = await browser.newContext({ viewport, locale: "en-US" });
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  page.on("pageerror", (error) => pageErrors.push(error.message));
  return page;
}

async function signIn(page: Page, creds: { accessKeyId: string; secretAccessKey: string }): Promise<void> {
  await page.goto(`${platform.url}/console`);
  await page.waitForURL(/\/console\/login$/);
  await page.fill('input[name="accessKeyId"]', creds.accessKeyId);
  await page.fill('input[name="secret"]', creds.secretAccessKey);
  await page.click('button[type="submit"]');
  await page.waitForURL(/\/console\/functions$/);
}

/** Waits for the live tail to show `text` (polled from here: the page's CSP forbids evaluating strings in it). */
async function tailShows(page: Page, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!((await page.locator("#log-tail").textContent()) ?? "").includes(text)) {
    if (Date.now() > deadline) throw new Error(`the live tail did not show "${text}" within ${timeoutMs} ms`);
    await page.waitForTimeout(200);
  }
}

async function invoke(payload: unknown): Promise<void> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: FUNCTION, Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
  expect(out.StatusCode).toBe(200);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  platform = await startPlatform();
  acme = await createTenantWithKey(platform, "console-acme");
  other = await createTenantWithKey(platform, "console-other");
  lambda = lambdaClient(platform, acme);
  await createActiveFunction(lambda, FUNCTION, HANDLER);
  await invoke({ order: 1 });
  await invoke({ order: 2 });
  await invoke({ order: 3, fail: true });
  browser = await playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe("the console in a browser", () => {
  it("signs in, lists the tenant's functions, and draws the invocations of real invokes", async () => {
    const page = await newPage();
    await signIn(page, acme);
    await expect(page.locator(`tr[data-function="${FUNCTION}"]`).count()).resolves.toBe(1);
    await page.screenshot({ path: path.join(SHOTS, "console-functions.png"), fullPage: true });

    await page.click(`a[href="/console/functions/${FUNCTION}"]`);
    await page.waitForURL(new RegExp(`/console/functions/${FUNCTION}$`));
    // Metrics are written a moment after the invokes answered: reload until the chart counts all three.
    const invocations = page.locator("figure.chart").first();
    for (let i = 0; i < 20 && (await invocations.getAttribute("data-total")) !== "3"; i++) {
      await page.waitForTimeout(250);
      await page.reload();
    }
    expect(await invocations.getAttribute("data-total")).toBe("3");
    await page.waitForSelector("figure.chart[data-drawn='true'] canvas");
    expect(await page.locator("figure.chart canvas").count()).toBe(4);
    expect(await page.locator("#recent tbody tr").count()).toBe(3);
    expect(await page.locator("#recent tr.outcome-error").count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, "console-function.png"), fullPage: true });
  });

  it("test-invokes from the form and shows the new log line in the live tail", async () => {
    const page = await newPage();
    await signIn(page, acme);
    await page.goto(`${platform.url}/console/functions/${FUNCTION}`);
    await page.fill('textarea[name="payload"]', JSON.stringify({ order: "from-the-console" }));
    await page.click('form.invoke button[type="submit"]');
    await page.waitForSelector("#invoke-result");
    expect(await page.textContent("#invoke-result pre.payload")).toContain('"order":"from-the-console"');
    // The tail polls every second; the line arrives once the shipper has written it.
    await tailShows(page, "order from-the-console");
    await page.screenshot({ path: path.join(SHOTS, "console-invoke.png"), fullPage: true });

    // Live: a line written after the page loaded appears without a reload.
    await invoke({ order: "while-watching" });
    await tailShows(page, "order while-watching");
  });

  it("shows a failed async event and redrives it from the page: the event runs again", async () => {
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: FUNCTION, MaximumRetryAttempts: 0 }));
    await lambda.send(new InvokeCommand({ FunctionName: FUNCTION, InvocationType: "Event", Payload: new TextEncoder().encode(JSON.stringify({ order: "async-redrive", fail: true })) }));
    const page = await newPage();
    await signIn(page, acme);
    await page.goto(`${platform.url}/console/functions/${FUNCTION}`);
    expect(await page.textContent("#async-h + dl")).toContain("Retry attempts0");
    for (let i = 0; i < 60 && (await page.locator("#failed-events tbody tr").count()) === 0; i++) {
      await page.waitForTimeout(250);
      await page.reload();
    }
    const rows = page.locator("#failed-events tbody tr");
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain("RetriesExhausted");
    await page.screenshot({ path: path.join(SHOTS, "console-failed-events.png"), fullPage: true });
    await tailShows(page, "order async-redrive");

    await page.click('#failed-events button[type="submit"]');
    await page.waitForURL(/\?redriven=/);
    expect(await page.textContent("#notice")).toContain("accepted again");
    expect(await page.textContent("#failed-events tbody tr:first-child")).toContain("redriven");
    // The redriven event runs (and fails again: a second failed event, redrivable in its turn).
    for (let i = 0; i < 60 && (await page.locator("#failed-events tbody tr").count()) < 2; i++) {
      await page.waitForTimeout(250);
      await page.reload();
    }
    expect(await page.locator("#failed-events button[type=submit]").count()).toBe(1);
    expect(await page.locator("#failed-events tbody tr").count()).toBe(2);
    // Redriving the first one again is refused (its form is gone; a replayed POST gets the conflict as a notice).
    const firstId = (await page.locator("#failed-events tbody tr").first().getAttribute("data-id")) ?? "";
    const csrf = (await page.locator('input[name="csrf"]').first().getAttribute("value")) ?? "";
    const replay = await page.context().request.post(`${platform.url}/console/functions/${FUNCTION}/failed-events/${firstId}/redrive`, { form: { csrf }, headers: { origin: platform.url } });
    expect(replay.status()).toBe(409);
    expect(await replay.text()).toContain("already redriven");
  });

  it("shows a durable execution's steps as a timeline", async () => {
    await createActiveFunction(lambda, DURABLE, await bundled(WORKFLOW), { Timeout: 30, Publish: true, DurableConfig: { ExecutionTimeout: 300, RetentionPeriodInDays: 1 } });
    const started = await lambda.send(new InvokeCommand({ FunctionName: DURABLE, Qualifier: "1", InvocationType: "Event", Payload: new TextEncoder().encode("{}") }));
    expect(started.DurableExecutionArn).toBeTruthy();
    const page = await newPage();
    await signIn(page, acme);
    await page.goto(`${platform.url}/console/functions/${DURABLE}`);
    await page.click("#executions tbody tr a");
    await page.waitForURL(/\/console\/executions\//);
    for (let i = 0; i < 80 && (await page.textContent("#execution-status")) !== "SUCCEEDED"; i++) {
      await page.waitForTimeout(250);
      await page.reload();
    }
    expect(await page.textContent("#execution-status")).toBe("SUCCEEDED");
    const timeline = (await page.textContent("#timeline tbody")) ?? "";
    expect(timeline).toContain("reserve-stock");
    expect(timeline).toContain("charge-card");
    expect(timeline).toContain("WaitStarted");
    expect(timeline).toContain("ExecutionSucceeded");
    await page.screenshot({ path: path.join(SHOTS, "console-execution.png"), fullPage: true });
    // Another tenant's session cannot open it.
    const stranger = await newPage();
    await signIn(stranger, other);
    expect((await stranger.goto(page.url()))?.status()).toBe(404);
  });

  it("is keyboard-navigable and fits a phone's width", async () => {
    const page = await newPage({ width: 390, height: 844 });
    await signIn(page, acme);
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.tagName")).toBe("A");
    await page.goto(`${platform.url}/console/functions/${FUNCTION}`);
    await page.waitForSelector("figure.chart[data-drawn='true'] canvas");
    // Nothing but the tables (which scroll inside their own box) is wider than the screen.
    const wide = await page.evaluate<string[]>(
      "[...document.querySelectorAll('main *')].filter((e) => !e.closest('.table-wrap') && e.getBoundingClientRect().right > 391).map((e) => e.tagName + '.' + e.className).slice(0, 8)",
    );
    expect(wide).toEqual([]);
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(SHOTS, "console-function-phone.png"), fullPage: true });
  });

  it("never shows a tenant another tenant's functions", async () => {
    const page = await newPage();
    await signIn(page, other);
    expect(await page.content()).not.toContain(FUNCTION);
    const response = await page.goto(`${platform.url}/console/functions/${FUNCTION}`);
    expect(response?.status()).toBe(404);
    // The live tail's endpoint, with this browser's session cookie.
    const tail = await page.context().request.get(`${platform.url}/console/functions/${FUNCTION}/logs`);
    expect(await tail.text()).not.toContain("order");
    expect(tail.status()).toBe(404);
  });

  it("gives the operator cells, queues and tenants", async () => {
    const page = await newPage();
    await page.goto(`${platform.url}/console/login`);
    await page.fill('input[name="adminToken"]', platform.adminToken);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/console\/operator$/);
    expect(await page.locator("div.cell").count()).toBeGreaterThan(0);
    expect(await page.textContent(`tr[data-tenant="${acme.tenantId}"] td.invocations`)).not.toBe("0");
    await page.screenshot({ path: path.join(SHOTS, "console-operator.png"), fullPage: true });
    // Navigation: signing out leads back to the sign-in page.
    await page.click("form.signout button");
    await page.waitForURL(/\/console\/login$/);
  });

  it("logs no errors in the browser console", () => {
    // The expected errors: the browser reports the 404s of another tenant's function page and execution page.
    expect(pageErrors.filter((e) => !e.includes("status of 404")).join("\n")).toBe("");
    expect(pageErrors.filter((e) => e.includes("status of 404"))).toHaveLength(2);
  });
});

describe("Lambda metrics through the AWS CLI", () => {
  const cli = (args: string[]) =>
    run(AWS_CLI, [...args, "--endpoint-url", platform.url, "--output", "json"], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: acme.accessKeyId, AWS_SECRET_ACCESS_KEY: acme.secretAccessKey, AWS_DEFAULT_REGION: "us-east-1", AWS_PAGER: "" },
    });
  const window = () => {
    const now = Math.floor(Date.now() / 1000);
    return ["--start-time", String(now - 3600), "--end-time", String(now + 60)];
  };

  it.skipIf(!existsSync(AWS_CLI))("get-metric-statistics, get-metric-data and list-metrics", async () => {
    const stats = await cli([
      "cloudwatch", "get-metric-statistics", "--namespace", "AWS/Lambda", "--metric-name", "Errors",
      "--dimensions", `Name=FunctionName,Value=${FUNCTION}`, ...window(), "--period", "3600", "--statistics", "Sum", "SampleCount",
    ]);
    const points = (JSON.parse(stats.stdout) as { Datapoints: Array<{ Sum: number; SampleCount: number }> }).Datapoints;
    // One failed sync invoke, and the async event that failed and failed again when redriven from the page.
    expect(points.reduce((n, p) => n + p.Sum, 0)).toBe(3);
    expect(points.reduce((n, p) => n + p.SampleCount, 0)).toBeGreaterThanOrEqual(3);

    const queries = JSON.stringify([
      { Id: "p99", MetricStat: { Metric: { Namespace: "AWS/Lambda", MetricName: "Duration", Dimensions: [{ Name: "FunctionName", Value: FUNCTION }] }, Period: 60, Stat: "p99" } },
    ]);
    const data = JSON.parse((await cli(["cloudwatch", "get-metric-data", "--metric-data-queries", queries, ...window()])).stdout) as {
      MetricDataResults: Array<{ Id: string; Values: number[]; StatusCode: string }>;
    };
    expect(data.MetricDataResults[0]?.Id).toBe("p99");
    expect(data.MetricDataResults[0]?.Values.length).toBeGreaterThan(0);

    const list = JSON.parse((await cli(["cloudwatch", "list-metrics", "--namespace", "AWS/Lambda", "--metric-name", "Invocations"])).stdout) as {
      Metrics: Array<{ Dimensions: Array<{ Name: string; Value: string }> }>;
    };
    expect(list.Metrics.some((m) => m.Dimensions.some((d) => d.Value === FUNCTION))).toBe(true);

    const bad = await cli(["cloudwatch", "get-metric-statistics", "--namespace", "AWS/Lambda", "--metric-name", "Errors", ...window(), "--period", "45", "--statistics", "Sum"]).catch(
      (err: { stderr: string }) => err,
    );
    expect("stderr" in bad ? bad.stderr : "").toContain("InvalidParameterValue");
  });
});
