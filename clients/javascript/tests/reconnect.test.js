// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Reconnection: backoff with full jitter within its bounds, the reset after a stable connection,
// the browser's `online` event, and nothing at all after close().

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { harness, open } from './harness.js';

const MIN = 500;
const MAX = 20000;

/** Gives globalThis a browser's addEventListener and removeEventListener for one test. */
function browserWindow(t) {
    const listeners = []; // {type, fn}, in the order added
    globalThis.addEventListener = (type, fn) => listeners.push({ type, fn });
    globalThis.removeEventListener = (type, fn) => {
        const index = listeners.findIndex((listener) => listener.type === type && listener.fn === fn);
        if (index >= 0) listeners.splice(index, 1);
    };
    t.after(() => {
        delete globalThis.addEventListener;
        delete globalThis.removeEventListener;
    });
    return {
        get count() {
            return listeners.length;
        },
        dispatch(type) {
            for (const listener of [...listeners]) if (listener.type === type) listener.fn(new Event(type));
        },
    };
}

/** Drops the current socket and returns the retry it scheduled, after waiting it out (a new socket is dialling). */
function dropAndWait(h) {
    h.socket.drop();
    const retry = h.retries.at(-1);
    h.clock.tick(retry.delay);
    return retry;
}

test('the first connect dials at once, with no token and no resume parameter', (t) => {
    const h = harness(t);
    h.client.connect();
    assert.equal(h.sockets.length, 1);
    assert.equal(h.socket.url.href, 'ws://127.0.0.1:8080/ws');
    assert.equal(h.client.state, 'connecting');
    h.socket.accept();
    assert.deepEqual(h.states.map((entry) => entry.state), ['connecting', 'open']);
});

test('retry delays grow from the minimum and stay between the minimum and the maximum', (t) => {
    t.mock.method(Math, 'random', () => 1); // the top of each range
    const h = harness(t);
    open(h);
    const delays = [];
    for (let attempt = 0; attempt < 8; attempt += 1) delays.push(dropAndWait(h).delay);
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000]);
    assert.equal(h.sockets.length, 9);
});

test('with full jitter every delay lies between the minimum and that attempt\'s ceiling', (t) => {
    const h = harness(t);
    open(h);
    const seen = new Set();
    for (let attempt = 0; attempt < 200; attempt += 1) {
        const { delay } = dropAndWait(h);
        const ceiling = Math.min(MAX, MIN * 2 ** (attempt + 1));
        assert.ok(delay >= MIN && delay <= ceiling, `attempt ${attempt}: ${delay} ms outside [${MIN}, ${ceiling}]`);
        seen.add(delay);
    }
    assert.ok(seen.size > 100, `only ${seen.size} distinct delays: not jittered`);
});

test('a retry waits its whole delay, and the state says when it is due', (t) => {
    t.mock.method(Math, 'random', () => 0.5);
    const h = harness(t);
    open(h);
    h.clock.tick(1234);
    h.socket.drop(1001, 'going away');
    const retry = h.retries.at(-1);
    assert.deepEqual(retry, {
        state: 'reconnecting', attempt: 1, delay: 750, nextRetryAt: h.clock.now + 750, code: 1001, reason: 'going away',
    });
    h.clock.tick(749);
    assert.equal(h.sockets.length, 1);
    h.clock.tick(1);
    assert.equal(h.sockets.length, 2);
    assert.equal(h.client.state, 'connecting');
});

test('failed dials keep growing the delay; a connection that stays open stableAfter resets it', (t) => {
    t.mock.method(Math, 'random', () => 1);
    const h = harness(t, { stableAfter: 3000 });
    open(h);
    assert.equal(dropAndWait(h).delay, 1000);
    assert.equal(dropAndWait(h).delay, 2000); // the dial itself failed
    h.socket.accept();
    h.clock.tick(2999); // open, but not long enough
    assert.equal(dropAndWait(h).delay, 4000);
    h.socket.accept();
    h.clock.tick(3000);
    assert.equal(dropAndWait(h).delay, 1000);
});

test('the online event dials at once instead of waiting out the delay', (t) => {
    const window = browserWindow(t);
    const h = harness(t, { minReconnectDelay: 10000 });
    open(h);
    assert.equal(window.count, 1);
    window.dispatch('online');
    assert.equal(h.sockets.length, 1, 'an open connection is left alone');
    h.socket.drop();
    assert.equal(h.client.state, 'reconnecting');
    window.dispatch('online');
    assert.equal(h.sockets.length, 2);
    assert.equal(h.client.state, 'connecting');
    h.client.close();
    assert.equal(window.count, 0, 'close() removes the listener');
    h.client.connect();
    assert.equal(window.count, 1, 'connect() adds it again, once');
});

test('nothing reconnects after close(), from any state, and no timer is left', (t) => {
    const h = harness(t);
    const everyState = {
        connecting: () => h.client.connect(),
        open: () => open(h),
        reconnecting: () => {
            open(h);
            h.socket.drop();
        },
    };
    for (const [state, reach] of Object.entries(everyState)) {
        const before = h.sockets.length;
        reach();
        assert.equal(h.client.state, state);
        const socket = h.socket;
        h.client.close();
        assert.equal(h.client.state, 'closed');
        assert.equal(h.clock.pending, 0, `a timer left after close() while ${state}`);
        h.clock.tick(10 * MAX);
        socket.drop();
        assert.equal(h.sockets.length, before + 1, `a dial after close() while ${state}`);
    }
});

test('an explicit close of an open connection uses code 1000 and is not taken for a lost one', async (t) => {
    const h = harness(t);
    const socket = open(h);
    h.client.close();
    assert.deepEqual(socket.closedWith, { code: 1000, reason: 'closed by the client' });
    await Promise.resolve(); // the fake socket's close event arrives now
    assert.equal(h.client.state, 'closed');
    assert.equal(h.retries.length, 0);
});

test('connect() after close() starts again from the first delay', (t) => {
    t.mock.method(Math, 'random', () => 1);
    const h = harness(t);
    open(h);
    dropAndWait(h);
    dropAndWait(h);
    h.client.close();
    open(h);
    assert.equal(dropAndWait(h).delay, 1000);
});
