/**
 * Issue 11 item 6: HTTP frameworks behind their Lambda adapters, unchanged.
 * Each case runs the same requests as API Gateway v1, v2 and function-URL
 * events and must answer exactly as plain Node 22 does (but for `date`).
 */
import type { CompatCase } from "../case";
import { allFormats, type HttpRequest, RUN_EACH, RUN_EACH_ESM, sameAsNode } from "./http-events";

const REQUESTS: HttpRequest[] = [
  { method: "GET", path: "/hello", query: { name: "ada" }, cookies: ["session=s1"] },
  { method: "POST", path: "/echo", headers: { "content-type": "application/json" }, body: JSON.stringify({ n: 1 }) },
  { method: "GET", path: "/bin" },
  { method: "GET", path: "/boom" },
  { method: "GET", path: "/missing" },
];

/** One express app for both majors and both adapters. */
const EXPRESS_APP = `
const express = require('express');
const app = express();
app.use(express.json());
app.get('/hello', (req, res) => {
  res.cookie('a', '1', { httpOnly: true });
  res.cookie('b', '2');
  res.set('x-custom', 'yes');
  res.json({ hello: req.query.name, cookie: req.headers.cookie ?? null, ip: req.ip });
});
app.post('/echo', (req, res) => res.status(201).json({ body: req.body, type: req.get('content-type') }));
app.get('/bin', (req, res) => res.type('application/octet-stream').send(Buffer.from([0, 1, 2, 254, 255])));
app.get('/boom', () => { throw new Error('boom'); });
module.exports = app;
`;

const PRODUCTION = { NODE_ENV: "production" };

function expressCase(name: string, expressPackage: string, adapter: "serverless-http" | "@codegenie/serverless-express"): CompatCase {
  const wrap =
    adapter === "serverless-http"
      ? "const serverless = require('serverless-http');\nexports.handler = serverless(require('./express-app'), { binary: ['application/octet-stream'] });"
      : "const serverlessExpress = require('@codegenie/serverless-express');\nexports.handler = serverlessExpress({ app: require('./express-app'), binarySettings: { contentTypes: ['application/octet-stream'] } });";
  return {
    name,
    packages: [expressPackage, adapter],
    environment: PRODUCTION,
    files: { "index.js": RUN_EACH, "app.js": wrap, "express-app.js": EXPRESS_APP },
    event: allFormats(REQUESTS),
    expect: sameAsNode,
    runInNode: true,
  };
}

export const cases: CompatCase[] = [
  expressCase("express 4 + serverless-http", "express", "serverless-http"),
  expressCase("express 5 + serverless-http", "express5 as express", "serverless-http"),
  expressCase("express 4 + @codegenie/serverless-express", "express", "@codegenie/serverless-express"),
  expressCase("express 5 + @codegenie/serverless-express", "express5 as express", "@codegenie/serverless-express"),
  {
    name: "koa + @koa/router + serverless-http",
    packages: ["koa", "@koa/router", "serverless-http"],
    environment: PRODUCTION,
    files: {
      "index.js": RUN_EACH,
      "app.js": `
const Koa = require('koa');
const Router = require('@koa/router');
const serverless = require('serverless-http');
const app = new Koa();
const router = new Router();
router.get('/hello', (ctx) => { ctx.cookies.set('a', '1'); ctx.set('x-custom', 'yes'); ctx.body = { hello: ctx.query.name, cookie: ctx.get('cookie') }; });
router.post('/echo', async (ctx) => {
  let text = '';
  for await (const chunk of ctx.req) text += chunk;
  ctx.status = 201; ctx.body = { body: JSON.parse(text), type: ctx.get('content-type') };
});
router.get('/bin', (ctx) => { ctx.type = 'application/octet-stream'; ctx.body = Buffer.from([0, 1, 2, 254, 255]); });
router.get('/boom', () => { throw new Error('boom'); });
app.silent = true;
app.use(router.routes());
exports.handler = serverless(app, { binary: ['application/octet-stream'] });
`,
    },
    event: allFormats(REQUESTS),
    expect: sameAsNode,
    runInNode: true,
  },
  {
    name: "hono + hono/aws-lambda",
    packages: ["hono"],
    files: {
      "index.mjs": RUN_EACH_ESM,
      "app.mjs": `
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { setCookie } from 'hono/cookie';
const app = new Hono();
app.get('/hello', (c) => { setCookie(c, 'a', '1'); setCookie(c, 'b', '2'); c.header('x-custom', 'yes'); return c.json({ hello: c.req.query('name'), cookie: c.req.header('cookie') ?? null }); });
app.post('/echo', async (c) => c.json({ body: await c.req.json(), type: c.req.header('content-type') }, 201));
app.get('/bin', (c) => c.body(new Uint8Array([0, 1, 2, 254, 255]), 200, { 'content-type': 'application/octet-stream' }));
app.get('/boom', () => { throw new Error('boom'); });
export const handler = handle(app);
`,
    },
    event: allFormats(REQUESTS),
    expect: sameAsNode,
    runInNode: true,
  },
];
