/**
 * The compat matrix of issue 11: middy, AWS Lambda Powertools for TypeScript
 * (logger, metrics, tracer, batch), pino, winston, and code that compiles
 * code from strings (eval / new Function). Log output is judged on cellfn's
 * log tail: Lambda passes process.stdout lines through raw.
 */
import type { CompatCase, Outcome } from "../case";
import { apiGatewayV2 } from "./http-events";

/** The log's lines that are JSON objects (raw lines, as the logger wrote them). */
const jsonLines = (o: Outcome) =>
  (o.log ?? "").split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

/** Same payload as Node, and a raw JSON log line for which `test` holds. */
const nodeAndLog = (what: string, test: (line: Record<string, unknown>) => boolean) => (o: Outcome, node: Outcome | undefined) => {
  if (node === undefined) return "no Node answer";
  if (JSON.stringify(o.value) !== JSON.stringify(node.value) || o.functionError !== node.functionError) return `cellfn ${JSON.stringify(o).slice(0, 300)} ≠ node ${JSON.stringify(node).slice(0, 300)}`;
  return jsonLines(o).some(test) ? undefined : `no raw JSON ${what} line in the log: ${(o.log ?? "").slice(-600)}`;
};

const errorOf = (o: Outcome) => o.value as { errorType?: string; errorMessage?: string };

export const cases: CompatCase[] = [
  {
    name: "middy core + http-json-body-parser + http-error-handler",
    packages: ["@middy/core", "@middy/http-json-body-parser", "@middy/http-header-normalizer", "@middy/http-error-handler", "http-errors"],
    files: {
      "index.mjs": `
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpErrorHandler from '@middy/http-error-handler';
import createError from 'http-errors';
const base = async (event) => {
  if (event.body.fail) throw createError(422, 'bad thing', { expose: true });
  return { statusCode: 200, body: JSON.stringify({ got: event.body }) };
};
const inner = middy(base).use(httpHeaderNormalizer()).use(httpJsonBodyParser()).use(httpErrorHandler({ logger: false }));
export const handler = async (events, context) => { const out = []; for (const e of events) out.push(await inner(e, context)); return out; };
`,
    },
    event: [
      apiGatewayV2({ method: "POST", path: "/x", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ a: 1 }) }),
      apiGatewayV2({ method: "POST", path: "/x", headers: { "content-type": "application/json" }, body: JSON.stringify({ fail: true }) }),
      apiGatewayV2({ method: "POST", path: "/x", headers: { "content-type": "application/json" }, body: "{not json" }),
    ],
    expect: "node",
  },
  {
    name: "middy validator (Ajv compiles with new Function)",
    packages: ["@middy/core", "@middy/validator"],
    files: {
      "index.mjs": `
import middy from '@middy/core';
import validator from '@middy/validator';
import { transpileSchema } from '@middy/validator/transpile';
const eventSchema = transpileSchema({ type: 'object', required: ['n'], properties: { n: { type: 'integer' } } });
export const handler = middy(async (event) => event.n * 2).use(validator({ eventSchema }));
`,
    },
    event: { n: 21 },
    runInNode: true,
    // Node answers 42. In an isolate code generation from strings is refused:
    // the init must fail clearly, naming the cause and the eval-free way (Ajv standalone code).
    expect: (o, node) => {
      if (JSON.stringify(node?.value) !== "42") return `node gave ${JSON.stringify(node)}`;
      if (o.functionError === undefined) return JSON.stringify(o.value) === "42" ? undefined : `got ${JSON.stringify(o.value)}`;
      const { errorType = "", errorMessage = "" } = errorOf(o);
      return errorType === "Runtime.CodeGenerationFromStringsNotAllowed" && /standalone/.test(errorMessage) ? undefined : `unclear error ${errorType}: ${errorMessage.slice(0, 200)}`;
    },
  },
  {
    name: "Powertools logger",
    packages: ["@aws-lambda-powertools/logger"],
    files: {
      "index.mjs": `
import { Logger } from '@aws-lambda-powertools/logger';
const logger = new Logger({ serviceName: 'orders' });
export const handler = async (event, context) => { logger.addContext(context); logger.info('order placed', { orderId: event.id }); return 'ok'; };
`,
    },
    event: { id: "o-1" },
    expect: nodeAndLog("logger", (l) => l.message === "order placed" && l.service === "orders" && l.orderId === "o-1" && l.level === "INFO"),
    runInNode: true,
  },
  {
    name: "Powertools metrics (EMF)",
    packages: ["@aws-lambda-powertools/metrics"],
    files: {
      "index.mjs": `
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
const metrics = new Metrics({ namespace: 'shop', serviceName: 'orders' });
export const handler = async () => { metrics.addMetric('placed', MetricUnit.Count, 1); metrics.publishStoredMetrics(); return 'ok'; };
`,
    },
    expect: nodeAndLog("EMF", (l) => typeof l._aws === "object" && l.placed === 1 && l.service === "orders"),
    runInNode: true,
  },
  {
    name: "Powertools tracer",
    packages: ["@aws-lambda-powertools/tracer"],
    files: {
      "index.mjs": `
import { Tracer } from '@aws-lambda-powertools/tracer';
const tracer = new Tracer({ serviceName: 'orders' });
export const handler = async () => { tracer.putAnnotation('k', 'v'); return { enabled: tracer.isTracingEnabled() }; };
`,
    },
    // Lambda enables the tracer (it sees AWS_EXECUTION_ENV and _X_AMZN_TRACE_ID); plain Node does not.
    expect: (o) => (JSON.stringify(o.value) === JSON.stringify({ enabled: true }) && o.functionError === undefined ? undefined : `got ${JSON.stringify(o.value).slice(0, 300)}`),
  },
  {
    name: "Powertools batch (SQS partial failures)",
    packages: ["@aws-lambda-powertools/batch"],
    files: {
      "index.mjs": `
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
const processor = new BatchProcessor(EventType.SQS);
const record = async (r) => { if (r.body === 'bad') throw new Error('bad record'); };
export const handler = async (event, context) => processPartialResponse(event, record, processor, { context });
`,
    },
    event: {
      Records: ["good", "bad", "good"].map((body, i) => ({
        messageId: `m${i}`, receiptHandle: `r${i}`, body, attributes: {}, messageAttributes: {}, md5OfBody: "", eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:q", awsRegion: "us-east-1",
      })),
    },
    expect: "node",
  },
  {
    name: "LoggingConfig JSON: platform records, level filtering",
    logging: { LogFormat: "JSON", ApplicationLogLevel: "WARN", SystemLogLevel: "INFO" },
    files: { "index.js": "exports.handler = async () => { console.info('dropped'); console.warn('kept'); process.stdout.write(JSON.stringify({ level: 'DEBUG', m: 'raw dropped' }) + '\\n'); return 'ok'; };" },
    expect: (o) => {
      const lines = jsonLines(o);
      const types = lines.map((l) => l.type ?? l.level);
      const want = ["platform.initStart", "platform.start", "WARN", "platform.report"];
      return o.value === "ok" && JSON.stringify(types) === JSON.stringify(want) && lines[2]?.message === "kept" ? undefined : `got ${JSON.stringify(types)}: ${(o.log ?? "").slice(0, 400)}`;
    },
  },
  {
    name: "pino",
    packages: ["pino"],
    files: { "index.js": "const pino = require('pino');\nconst log = pino();\nexports.handler = async () => { log.info({ orderId: 'o-1' }, 'placed'); return 'ok'; };" },
    expect: nodeAndLog("pino", (l) => l.msg === "placed" && l.orderId === "o-1" && l.level === 30),
    runInNode: true,
  },
  {
    name: "winston",
    packages: ["winston"],
    files: {
      "index.js":
        "const winston = require('winston');\nconst log = winston.createLogger({ format: winston.format.json(), transports: [new winston.transports.Console()] });\n" +
        "exports.handler = async () => { log.info('placed', { orderId: 'o-1' }); return 'ok'; };",
    },
    expect: nodeAndLog("winston", (l) => l.message === "placed" && l.orderId === "o-1" && l.level === "info"),
    runInNode: true,
  },
  {
    name: "ajv compile (new Function): clear error",
    packages: ["ajv"],
    files: {
      "index.js":
        "const Ajv = require('ajv');\nconst validate = new Ajv().compile({ type: 'object', required: ['n'] });\nexports.handler = async (event) => validate(event);",
    },
    event: { n: 1 },
    runInNode: true,
    expect: (o, node) => {
      if (node?.value !== true) return `node gave ${JSON.stringify(node)}`;
      if (o.functionError === undefined) return o.value === true ? undefined : `got ${JSON.stringify(o.value)}`;
      const { errorType = "", errorMessage = "" } = errorOf(o);
      return errorType === "Runtime.CodeGenerationFromStringsNotAllowed" && /standalone/.test(errorMessage) ? undefined : `unclear error ${errorType}: ${errorMessage.slice(0, 200)}`;
    },
  },
  {
    name: "handlebars compile (new Function): clear error",
    packages: ["handlebars"],
    files: { "index.js": "const Handlebars = require('handlebars');\nexports.handler = async () => Handlebars.compile('Hi {{name}}')({ name: 'ada' });" },
    runInNode: true,
    expect: (o, node) => {
      if (node?.value !== "Hi ada") return `node gave ${JSON.stringify(node)}`;
      if (o.functionError === undefined) return o.value === "Hi ada" ? undefined : `got ${JSON.stringify(o.value)}`;
      const { errorType = "", errorMessage = "" } = errorOf(o);
      return errorType === "Runtime.CodeGenerationFromStringsNotAllowed" && /precompile/i.test(errorMessage) ? undefined : `unclear error ${errorType}: ${errorMessage.slice(0, 200)}`;
    },
  },
];
