/**
 * The frameworks under test, and app factories for the harness: an Express/Koa app becomes a
 * request listener, a Fastify app is built with the side's serverFactory.
 */

import express5 from 'express';
import express4 from 'express4';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import Fastify5 from 'fastify';
import Fastify4 from 'fastify4';
import type { AppFactory, FastifyLike, Hooks, Listener } from './harness.js';

export type ExpressName = 'express4' | 'express5';
export type KoaName = 'koa2' | 'koa3';
export type FastifyName = 'fastify4' | 'fastify5';
export type FrameworkName = ExpressName | KoaName | FastifyName;

export const EXPRESS: ExpressName[] = ['express4', 'express5'];
export const KOA: KoaName[] = ['koa2', 'koa3'];
export const FASTIFY: FastifyName[] = ['fastify4', 'fastify5'];
export const ALL: FrameworkName[] = [...EXPRESS, ...KOA, ...FASTIFY];

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Any = any;

export function makeExpress(name: ExpressName): Any {
  return name === 'express4' ? (express4 as Any)() : (express5 as Any)();
}

export function expressModule(name: ExpressName): Any {
  return name === 'express4' ? express4 : express5;
}

/** An Express app: `setup(app, hooks)` adds routes. Errors render as in production (no stack traces). */
export function expressApp(name: ExpressName, setup: (app: Any, hooks: Hooks) => void): AppFactory {
  return (hooks) => {
    const app = makeExpress(name);
    app.set('env', 'production');
    setup(app, hooks);
    return { kind: 'listener', listener: app as Listener };
  };
}

export function makeKoa(name: KoaName, options: Record<string, unknown> = {}): Any {
  const app = name === 'koa2' ? new (Koa2 as Any)(options) : new (Koa3 as Any)(options);
  app.silent = true;
  return app;
}

/** A Koa app: `setup(app, hooks)` adds middleware. */
export function koaApp(name: KoaName, setup: (app: Any, hooks: Hooks) => void, options: Record<string, unknown> = {}): AppFactory {
  return (hooks) => {
    const app = makeKoa(name, options);
    setup(app, hooks);
    return { kind: 'listener', listener: app.callback() as Listener };
  };
}

/** A Fastify app: `setup(fastify, hooks)` adds routes and plugins (it may be async). */
export function fastifyApp(name: FastifyName, setup: (fastify: Any, hooks: Hooks) => void | Promise<void>, options: Record<string, unknown> = {}): AppFactory {
  return (hooks) => ({
    kind: 'fastify',
    build: async (serverFactory) => {
      const make = (name === 'fastify4' ? Fastify4 : Fastify5) as Any;
      const fastify = make({ serverFactory, ...options });
      await setup(fastify, hooks);
      return fastify as FastifyLike;
    },
  });
}

/** A plain node request listener. */
export function nodeApp(listener: (hooks: Hooks) => Listener, configure?: (server: Any, hooks: Hooks) => void): AppFactory {
  return (hooks) => ({ kind: 'listener', listener: listener(hooks), ...(configure ? { configure } : {}) });
}

/**
 * One app per framework, from per-family setups: the same route behaviour written the idiomatic
 * way for each framework.
 */
export function appFor(
  name: FrameworkName,
  setups: {
    express?: (app: Any, hooks: Hooks) => void;
    koa?: (app: Any, hooks: Hooks) => void;
    fastify?: (fastify: Any, hooks: Hooks) => void | Promise<void>;
  },
): AppFactory {
  if (name.startsWith('express')) return expressApp(name as ExpressName, setups.express!);
  if (name.startsWith('koa')) return koaApp(name as KoaName, setups.koa!);
  return fastifyApp(name as FastifyName, setups.fastify!);
}

/**
 * The same node-level handler `(req, res, hooks)` mounted the way each framework hands over the raw
 * objects: an Express route, Koa with `ctx.respond = false`, Fastify with `reply.hijack()`.
 */
export function rawApp(name: FrameworkName, handler: (req: Any, res: Any, hooks: Hooks) => unknown): AppFactory {
  return appFor(name, {
    express: (app, hooks) => app.all(/.*/, (req: Any, res: Any) => handler(req, res, hooks)),
    koa: (app, hooks) =>
      app.use(async (ctx: Any) => {
        ctx.respond = false;
        await handler(ctx.req, ctx.res, hooks);
      }),
    fastify: (fastify, hooks) => {
      fastify.removeAllContentTypeParsers?.();
      fastify.addContentTypeParser('*', (_request: Any, _payload: Any, done: Any) => done(null));
      fastify.all('/*', (request: Any, reply: Any) => {
        reply.hijack();
        handler(request.raw, reply.raw, hooks);
      });
    },
  });
}
