/**
 * The `diagnostics_channel` channels Rocket publishes on, declared in one place so a tracer finds
 * them all. Every publish checks `hasSubscribers` first: with no tracer attached, a request pays
 * for neither the message object nor the call.
 */

import diagnostics from 'node:diagnostics_channel';

/** `{ environ, connection }`: a request's app is about to run. */
export const requestStart = diagnostics.channel('rocket.request.start');

/** `{ environ, connection, status, bytes, durationMs }`: a response is over, once per request. */
export const requestFinish = diagnostics.channel('rocket.request.finish');
