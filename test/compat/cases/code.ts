/** Cases for issue 11 items 1, 4, 5 (code, files, bundling) and popular pure-JS packages. */
import type { CompatCase, Outcome } from "../case";

const errorOf = (o: Outcome) => o.value as { errorType?: string; errorMessage?: string };
const fails = (type: string, ...phrases: string[]) => (o: Outcome) => {
  const { errorType, errorMessage = "" } = errorOf(o);
  if (o.functionError === undefined) return `expected ${type}, got ${JSON.stringify(o.value)}`;
  if (errorType !== type) return `errorType ${errorType}: ${errorMessage.slice(0, 200)}`;
  const missing = phrases.find((p) => !errorMessage.includes(p));
  return missing === undefined ? undefined : `message lacks "${missing}": ${errorMessage.slice(0, 200)}`;
};

export const cases: CompatCase[] = [
  {
    name: "lodash",
    packages: ["lodash"],
    files: { "index.js": "const _ = require('lodash');\nexports.handler = async () => ({ chunks: _.chunk([1, 2, 3, 4, 5], 2), camel: _.camelCase('Foo Bar') });" },
    expect: "node",
  },
  {
    name: "date-fns",
    packages: ["date-fns"],
    files: { "index.mjs": "import { addDays, format } from 'date-fns';\nexport const handler = async () => format(addDays(new Date(Date.UTC(2024, 0, 30)), 3), 'yyyy-MM-dd');" },
    expect: "node",
  },
  {
    name: "zod",
    packages: ["zod"],
    files: {
      "index.js":
        "const { z } = require('zod');\nconst User = z.object({ name: z.string(), age: z.number().int() });\n" +
        "exports.handler = async (event) => { const r = User.safeParse(event); return r.success ? r.data : r.error.issues.map((i) => i.path.join('.')); };",
    },
    event: { name: "ada", age: "x" },
    expect: "node",
  },
  {
    name: "uuid",
    packages: ["uuid"],
    files: { "index.mjs": "import { v4, validate, v5 } from 'uuid';\nexport const handler = async () => ({ valid: validate(v4()), v5: v5('hello', v5.DNS) });" },
    expect: "node",
  },
  {
    name: "jsonwebtoken",
    packages: ["jsonwebtoken"],
    files: {
      "index.js":
        "const jwt = require('jsonwebtoken');\nexports.handler = async () => { const t = jwt.sign({ sub: 'u1' }, 's3cret', { algorithm: 'HS256', noTimestamp: true });\n" +
        "  return { token: t, claims: jwt.verify(t, 's3cret') }; };",
    },
    expect: "node",
  },
  {
    name: "axios (local server)",
    packages: ["axios"],
    files: { "index.js": "const axios = require('axios');\nexports.handler = async (event) => (await axios.get(event.url + '/json')).data;" },
    event: (ctx) => ({ url: ctx.httpUrl }),
    expect: "node",
  },
  {
    name: "debug (optional supports-color)",
    packages: ["debug"],
    files: { "index.js": "const debug = require('debug')('app');\nexports.handler = async () => { debug('hidden'); return typeof debug; };" },
    expect: "node",
  },
  {
    name: "pg (ECONNREFUSED)",
    packages: ["pg"],
    files: {
      "index.js":
        "const { Client } = require('pg');\nexports.handler = async () => { const c = new Client({ host: '127.0.0.1', port: 1, user: 'u', database: 'd', password: 'p' });\n" +
        "  try { await c.connect(); return 'connected'; } catch (e) { return e.code; } };",
    },
    expect: "node",
  },
  {
    name: "sharp (clear error)",
    packages: ["sharp"],
    files: { "index.js": "const sharp = require('sharp');\nexports.handler = async () => typeof sharp;" },
    expect: fails("Runtime.ImportModuleError", "native addon", "sharp"),
  },
  {
    name: "fs: /var/task files and /tmp",
    files: {
      "index.js":
        "const fs = require('fs');\nconst path = require('path');\nexports.handler = async () => { fs.writeFileSync('/tmp/x.txt', 'tmp');\n" +
        "  return { tpl: fs.readFileSync(path.join(__dirname, 'tpl.html'), 'utf8'), rel: fs.readFileSync('./tpl.html', 'utf8'), tmp: fs.readFileSync('/tmp/x.txt', 'utf8'), cwd: process.cwd(), dir: __dirname }; };",
      "tpl.html": "<p>hi</p>",
    },
    expect: (o) => {
      const want = JSON.stringify({ tpl: "<p>hi</p>", rel: "<p>hi</p>", tmp: "tmp", cwd: "/var/task", dir: "/var/task" });
      return JSON.stringify(o.value) === want ? undefined : `got ${JSON.stringify(o.value)}`;
    },
  },
  {
    name: "esm import.meta",
    files: { "index.mjs": "export const handler = async () => [import.meta.url, import.meta.dirname, import.meta.filename];" },
    expect: (o) => (JSON.stringify(o.value) === JSON.stringify(["file:///var/task/index.mjs", "/var/task", "/var/task/index.mjs"]) ? undefined : `got ${JSON.stringify(o.value)}`),
  },
  {
    name: "computed require",
    files: {
      "index.js": "exports.handler = async (event) => require('./plugins/' + event.name).id;",
      "plugins/a.js": "exports.id = 'plugin-a';",
    },
    event: { name: "a" },
    expect: "node",
  },
  {
    name: "absent package: MODULE_NOT_FOUND when run",
    files: { "index.js": "exports.handler = async () => { try { require('not-installed'); } catch (e) { return [e.code, e.message.split('\\n')[0]]; } };" },
    expect: "node",
  },
  {
    name: "AWS SDK v3 preinstalled (@aws-sdk/client-lambda)",
    files: { "index.mjs": "import { LambdaClient } from '@aws-sdk/client-lambda';\nexport const handler = async () => typeof LambdaClient;" },
    expect: (o) => (o.value === "function" ? undefined : `got ${JSON.stringify(o.value).slice(0, 200)}`),
    runInNode: false,
  },
  {
    name: "AWS SDK v3 preinstalled: lib-dynamodb document client over client-dynamodb",
    files: {
      "index.mjs":
        "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nimport { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';\n" +
        "const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));\n" +
        "export const handler = async () => [typeof doc.send, new PutCommand({ TableName: 't', Item: { a: 1 } }).input.Item.a, (await doc.config.credentials()).accessKeyId === process.env.AWS_ACCESS_KEY_ID];",
    },
    expect: (o) => (JSON.stringify(o.value) === '["function",1,true]' ? undefined : `got ${JSON.stringify(o.value).slice(0, 200)}`),
    runInNode: false,
  },
];
