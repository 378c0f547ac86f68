// Compiled by packaging.test.ts under each moduleResolution a consumer may use: the types of every
// entry point must resolve, and these uses must type-check.
import { Rocket, type GatewayApp } from '@rocketserver/core';
import { parseRequestHead, statusText } from '@rocketserver/core/http';
import { createServer, toGateway } from '@rocketserver/adapter-node';
import { listen as listenExpress } from '@rocketserver/adapter-express';
import { listen as listenKoa } from '@rocketserver/adapter-koa';
import { serverFactory } from '@rocketserver/adapter-fastify';
import { CherryPyWSGIServer } from '@rocketserver/cherrypy-compat';

const app: GatewayApp = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [statusText(200)];
};
export const uses = [
  new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app }),
  parseRequestHead,
  createServer((_req, res) => res.end()),
  toGateway((_req, res) => res.end()),
  listenExpress,
  listenKoa,
  serverFactory,
  CherryPyWSGIServer,
];
